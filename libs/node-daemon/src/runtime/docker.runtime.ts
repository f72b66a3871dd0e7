import Docker from 'dockerode';
import { pack } from 'tar-stream';
import type { SlotResources } from '@berth/domain';
import {
  ContainerHandle,
  ContainerRunState,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  LABELS,
  LabelledContainer,
  LogChunk,
  LogOptions,
  names,
  RuntimeEvent,
  RuntimeInfo,
  RuntimeStartSpec,
} from './container-runtime';

/**
 * The only file that speaks Docker (dockerode). Every slot container is created here, so the
 * hardening lives here: no privileged mode, no host namespaces, no devices, no host paths, no
 * Docker socket are ever set; caps dropped, no-new-privileges, memory = memory+swap, CPU, PIDs.
 */
export class DockerRuntime implements ContainerRuntime {
  private readonly docker: Docker;

  constructor(
    private readonly nodeId: string,
    docker?: Docker,
  ) {
    this.docker = docker ?? new Docker();
  }

  async info(): Promise<RuntimeInfo> {
    const [info, version] = await Promise.all([this.docker.info(), this.docker.version()]);
    return {
      engineVersion: version.Version,
      apiVersion: version.ApiVersion,
      memoryBytes: info.MemTotal,
      nanoCpus: info.NCPU * 1e9,
    };
  }

  async start(
    spec: RuntimeStartSpec,
    onStep: (phase: string, message: string) => void = () => undefined,
  ): Promise<ContainerHandle> {
    const labels = this.labelsFor(spec);
    const baseLabels = {
      [LABELS.node]: spec.nodeId,
      [LABELS.slot]: spec.slotId,
      [LABELS.customer]: spec.customerId,
      [LABELS.managed]: 'true',
    };

    // The network and the data volume do not depend on each other: prepare both at once
    // (network creation is the slowest step before the container exists).
    const networkName = names.network(spec.nodeId, spec.slotId);
    const volumeName = names.volume(spec.slotId, spec.agentTypeId);
    const network = this.docker
      .createNetwork({
        Name: networkName,
        Driver: 'bridge',
        CheckDuplicate: true,
        Labels: baseLabels,
        Options: { 'com.docker.network.bridge.enable_icc': 'false' },
      })
      .catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 409) throw e; // it exists already: a redeploy or a retried deploy
      })
      .then(() => onStep('network_ready', `network ${networkName}`));
    const volume = (async () => {
      await this.docker.createVolume({ Name: volumeName, Labels: { ...baseLabels, [LABELS.agentType]: spec.agentTypeId } });
      onStep('volume_ready', `data volume ${volumeName}`);
      const owner = await this.ownerOf(spec);
      if (spec.files.length > 0 || owner.uid !== 0) {
        await this.seedDataDir(spec, volumeName, owner, baseLabels);
        onStep(
          'files_written',
          `data dir owned by ${owner.uid}:${owner.gid}` +
            (spec.files.length ? `; ${spec.files.length} file(s) written to the data volume` : ''),
        );
      }
    })();
    const [n, v] = await Promise.allSettled([network, volume]);
    if (n.status === 'rejected') throw n.reason;
    if (v.status === 'rejected') throw v.reason;

    const exposed: Record<string, object> = {};
    for (const p of spec.containerPorts) exposed[`${p.containerPort}/tcp`] = {};
    const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
    for (const b of spec.published)
      bindings[`${b.containerPort}/tcp`] = [{ HostIp: b.hostIp, HostPort: String(b.hostPort) }];

    const container = await this.docker.createContainer({
      name: names.container(spec.nodeId, spec.slotId),
      Image: spec.image,
      Entrypoint: spec.entrypoint,
      Cmd: spec.command,
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      User: spec.user || undefined,
      WorkingDir: spec.workingDir || undefined,
      Labels: labels,
      ExposedPorts: exposed,
      HostConfig: {
        NetworkMode: networkName,
        PortBindings: bindings,
        Memory: spec.resources.memoryBytes,
        MemorySwap: spec.resources.memoryBytes,
        NanoCpus: spec.resources.nanoCpus,
        PidsLimit: spec.resources.pidsLimit,
        RestartPolicy: { Name: 'on-failure', MaximumRetryCount: spec.restartMaxRetries },
        CapDrop: ['ALL'],
        CapAdd: spec.capAdd.map((c) => c.toUpperCase().replace(/^CAP_/, '')),
        SecurityOpt: ['no-new-privileges:true'],
        Privileged: false,
        ReadonlyRootfs: spec.readOnlyRootfs,
        Tmpfs: spec.readOnlyRootfs ? { '/tmp': 'rw,nosuid,nodev,size=64m' } : undefined,
        Mounts: [{ Type: 'volume', Source: volumeName, Target: spec.dataMountPath, ReadOnly: false }],
        LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
      },
    });
    onStep('container_created', `container ${container.id.slice(0, 12)}`);
    try {
      await container.start();
      onStep('container_started', 'container started');
    } catch (e) {
      await container.remove({ force: true }).catch(() => undefined);
      throw e;
    }
    const inspected = await container.inspect();
    return this.handleFrom(container.id, labels, inspected.HostConfig, Date.parse(inspected.Created))!;
  }

  async stop(handle: ContainerHandle, timeoutS = 10): Promise<void> {
    await this.docker
      .getContainer(handle.containerId)
      .stop({ t: timeoutS })
      .catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 304) throw e; // already stopped
      });
  }

  async resume(handle: ContainerHandle): Promise<void> {
    await this.docker
      .getContainer(handle.containerId)
      .start()
      .catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 304) throw e;
      });
  }

  async restart(handle: ContainerHandle, timeoutS = 10): Promise<void> {
    await this.docker.getContainer(handle.containerId).restart({ t: timeoutS });
  }

  async destroy(
    handle: Pick<ContainerHandle, 'containerId' | 'slotId'>,
    opts: { purgeData?: boolean } = {},
  ): Promise<void> {
    await this.removeContainer(handle.containerId);
    const networkName = names.network(this.nodeId, handle.slotId);
    const nets = await this.docker.listNetworks({
      filters: JSON.stringify({ name: [networkName], label: [`${LABELS.node}=${this.nodeId}`] }),
    });
    for (const n of nets.filter((n) => n.Name === networkName)) await this.removeNetwork(n.Id);
    if (opts.purgeData) {
      const vols =
        (
          await this.docker.listVolumes({
            filters: JSON.stringify({
              label: [`${LABELS.slot}=${handle.slotId}`, `${LABELS.node}=${this.nodeId}`],
            }),
          })
        ).Volumes ?? [];
      for (const v of vols) await this.docker.getVolume(v.Name).remove();
    }
  }

  async removeContainer(containerId: string): Promise<void> {
    await this.docker
      .getContainer(containerId)
      .remove({ force: true })
      .catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 404) throw e;
      });
  }

  async removeNetwork(networkId: string): Promise<void> {
    await this.docker
      .getNetwork(networkId)
      .remove()
      .catch((e: { statusCode?: number }) => {
        if (e.statusCode !== 404) throw e;
      });
  }

  async inspect(handle: Pick<ContainerHandle, 'containerId'>): Promise<ContainerStatus | undefined> {
    let c: Docker.ContainerInspectInfo;
    try {
      c = await this.docker.getContainer(handle.containerId).inspect();
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return undefined;
      throw e;
    }
    const nets = Object.values(c.NetworkSettings?.Networks ?? {});
    const ts = (s?: string) => (s && !s.startsWith('0001') ? Date.parse(s) : undefined);
    return {
      state: c.State.Status as ContainerRunState,
      running: c.State.Running,
      exitCode: c.State.ExitCode,
      oomKilled: c.State.OOMKilled,
      restartCount: c.RestartCount,
      ip: nets.find((n) => n.IPAddress)?.IPAddress || undefined,
      startedAtMs: ts(c.State.StartedAt),
      finishedAtMs: ts(c.State.FinishedAt),
    };
  }

  async stats(handle: ContainerHandle): Promise<ContainerStats> {
    const s = (await this.docker
      .getContainer(handle.containerId)
      .stats({ stream: false })) as unknown as Docker.ContainerStats;
    const cpuDelta = s.cpu_stats.cpu_usage.total_usage - s.precpu_stats.cpu_usage.total_usage;
    const sysDelta = (s.cpu_stats.system_cpu_usage ?? 0) - (s.precpu_stats.system_cpu_usage ?? 0);
    return {
      memoryUsageBytes: s.memory_stats.usage ?? 0,
      memoryLimitBytes: s.memory_stats.limit ?? 0,
      cpuPercent: sysDelta > 0 ? (cpuDelta / sysDelta) * (s.cpu_stats.online_cpus ?? 1) * 100 : 0,
      pids: (s as unknown as { pids_stats?: { current?: number } }).pids_stats?.current ?? 0,
    };
  }

  async update(handle: ContainerHandle, r: SlotResources): Promise<void> {
    await this.docker.getContainer(handle.containerId).update({
      Memory: r.memoryBytes,
      MemorySwap: r.memoryBytes,
      NanoCpus: r.nanoCpus,
      PidsLimit: r.pidsLimit,
    });
  }

  async *logs(handle: ContainerHandle, opts: LogOptions, signal: AbortSignal): AsyncIterable<LogChunk> {
    const c = this.docker.getContainer(handle.containerId);
    const base = {
      stdout: true,
      stderr: true,
      tail: opts.tail && opts.tail > 0 ? opts.tail : 'all',
      since: opts.sinceMs ? Math.floor(opts.sinceMs / 1000) : 0,
    };
    if (!opts.follow) {
      const buf = (await c.logs({ ...base, follow: false } as Docker.ContainerLogsOptions & {
        follow: false;
      })) as unknown as Buffer;
      yield* demux([buf]);
      return;
    }
    const stream = (await c.logs({ ...base, follow: true } as Docker.ContainerLogsOptions & {
      follow: true;
    })) as unknown as NodeJS.ReadableStream & { destroy(): void };
    const abort = () => stream.destroy();
    signal.addEventListener('abort', abort, { once: true });
    try {
      yield* demux(stream as AsyncIterable<Buffer>);
    } finally {
      signal.removeEventListener('abort', abort);
      stream.destroy();
    }
  }

  async *events(signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    const stream = (await this.docker.getEvents({
      filters: JSON.stringify({ type: ['container'], label: [`${LABELS.node}=${this.nodeId}`] }),
    })) as unknown as NodeJS.ReadableStream & { destroy(): void };
    const abort = () => stream.destroy();
    signal.addEventListener('abort', abort, { once: true });
    let rest = '';
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        rest += chunk.toString('utf8');
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (!line) continue;
          const e = JSON.parse(line) as {
            Action?: string;
            id?: string;
            Actor?: { ID: string; Attributes?: Record<string, string> };
            timeNano?: number;
          };
          const action = (e.Action ?? '').split(':')[0];
          const type =
            (['start', 'die', 'oom', 'stop', 'destroy'] as const).find((t) => t === action) ??
            (action === 'health_status' ? 'health' : 'other');
          yield {
            type,
            containerId: e.Actor?.ID ?? e.id ?? '',
            slotId: e.Actor?.Attributes?.[LABELS.slot],
            atMs: e.timeNano ? Math.floor(e.timeNano / 1e6) : Date.now(),
          };
        }
      }
    } catch (e) {
      if (!signal.aborted) throw e;
    } finally {
      signal.removeEventListener('abort', abort);
      stream.destroy();
    }
  }

  async list(): Promise<LabelledContainer[]> {
    const list = await this.docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${LABELS.node}=${this.nodeId}`] }),
    });
    const out: LabelledContainer[] = [];
    for (const c of list) {
      let hostConfig: Docker.HostConfig | undefined;
      try {
        hostConfig = (await this.docker.getContainer(c.Id).inspect()).HostConfig;
      } catch {
        continue; // removed meanwhile
      }
      out.push({
        containerId: c.Id,
        labels: c.Labels,
        state: c.State as ContainerRunState,
        createdAtMs: c.Created * 1000,
        handle: this.handleFrom(c.Id, c.Labels, hostConfig, c.Created * 1000),
      });
    }
    return out;
  }

  async listSlotNetworks(): Promise<
    { networkId: string; slotId: string; createdAtMs: number; containers: number }[]
  > {
    const nets = await this.docker.listNetworks({
      filters: JSON.stringify({ label: [`${LABELS.node}=${this.nodeId}`] }),
    });
    const out = [];
    for (const n of nets) {
      const full = await this.docker
        .getNetwork(n.Id)
        .inspect()
        .catch(() => undefined);
      if (!full) continue;
      out.push({
        networkId: n.Id,
        slotId: n.Labels?.[LABELS.slot] ?? '',
        createdAtMs: Date.parse(n.Created ?? '') || 0,
        containers: Object.keys(full.Containers ?? {}).length,
      });
    }
    return out;
  }

  private labelsFor(spec: RuntimeStartSpec): Record<string, string> {
    return {
      [LABELS.managed]: 'true',
      [LABELS.node]: spec.nodeId,
      [LABELS.slot]: spec.slotId,
      [LABELS.customer]: spec.customerId,
      [LABELS.deployment]: spec.deploymentId,
      [LABELS.agentType]: spec.agentTypeId,
      [LABELS.agentVersion]: spec.agentVersion,
      [LABELS.image]: spec.image,
      [LABELS.ports]: JSON.stringify(spec.published),
      [LABELS.containerPorts]: JSON.stringify(spec.containerPorts),
      ...(spec.health ? { [LABELS.health]: JSON.stringify(spec.health) } : {}),
    };
  }

  private handleFrom(
    containerId: string,
    l: Record<string, string>,
    hc: Docker.HostConfig | undefined,
    createdAtMs: number,
  ): ContainerHandle | undefined {
    try {
      const required = [
        LABELS.node,
        LABELS.slot,
        LABELS.customer,
        LABELS.deployment,
        LABELS.agentType,
        LABELS.ports,
        LABELS.containerPorts,
      ];
      if (required.some((k) => !l[k])) return undefined;
      return {
        containerId,
        nodeId: l[LABELS.node],
        slotId: l[LABELS.slot],
        deploymentId: l[LABELS.deployment],
        customerId: l[LABELS.customer],
        agentTypeId: l[LABELS.agentType],
        agentVersion: l[LABELS.agentVersion] ?? '',
        image: l[LABELS.image] ?? '',
        published: JSON.parse(l[LABELS.ports]),
        containerPorts: JSON.parse(l[LABELS.containerPorts]),
        health: l[LABELS.health] ? JSON.parse(l[LABELS.health]) : undefined,
        resources: {
          memoryBytes: hc?.Memory ?? 0,
          nanoCpus: hc?.NanoCpus ?? 0,
          pidsLimit: hc?.PidsLimit ?? 0,
        },
        createdAtMs,
      };
    } catch {
      return undefined;
    }
  }

  /** Numeric owner for the written files: the spec's user, else the image's, else root. */
  private async ownerOf(spec: RuntimeStartSpec): Promise<{ uid: number; gid: number }> {
    let user = spec.user;
    if (!user) user = (await this.docker.getImage(spec.image).inspect()).Config?.User;
    const m = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
    return m ? { uid: Number(m[1]), gid: Number(m[2] ?? m[1]) } : { uid: 0, gid: 0 };
  }

  /**
   * Makes the data dir the agent's own and writes spec.files into it, before the slot's container
   * exists. Docker extracts an archive *into* a directory and never applies the archive's `./`
   * entry to that directory itself, so a volume mounted where the image has no (or a root-owned)
   * directory stays root's, and an agent running as uid 1000 cannot write its own data dir. The
   * only place the volume root can be named as an entry is its parent, which is on the container's
   * root filesystem (read-only for the slot). So: a helper container from the same image with the
   * same volume at the same path (Docker's copy-up of the image's content happens exactly as for
   * the slot), a writable rootfs, no network, never started; the archive goes to the parent with
   * `<basename>/` owned by the agent's user. Then the helper is removed.
   */
  private async seedDataDir(
    spec: RuntimeStartSpec,
    volumeName: string,
    owner: { uid: number; gid: number },
    labels: Record<string, string>,
  ): Promise<void> {
    const name = `${names.container(spec.nodeId, spec.slotId)}-seed`;
    await this.removeContainer(name); // a leftover of an interrupted deploy
    const seed = await this.docker.createContainer({
      name,
      Image: spec.image,
      // Never started; a command is only needed because create refuses an image without one.
      Entrypoint: ['/berth-seed-never-started'],
      Cmd: [],
      // No deployment label: if we die right here the reaper sees an orphan and removes it.
      Labels: labels,
      NetworkDisabled: true,
      HostConfig: {
        NetworkMode: 'none',
        CapDrop: ['ALL'],
        SecurityOpt: ['no-new-privileges:true'],
        Mounts: [{ Type: 'volume', Source: volumeName, Target: spec.dataMountPath, ReadOnly: false }],
      },
    });
    try {
      const mount = spec.dataMountPath.replace(/\/+$/, '');
      const parent = mount.slice(0, mount.lastIndexOf('/')) || '/';
      const base = mount.slice(mount.lastIndexOf('/') + 1);
      await seed.putArchive(this.filesArchive(spec, base, owner), { path: parent });
    } finally {
      await seed.remove({ force: true }).catch(() => undefined);
    }
  }

  private filesArchive(
    spec: RuntimeStartSpec,
    base: string,
    owner: { uid: number; gid: number },
  ): NodeJS.ReadableStream {
    const tar = pack();
    const dirs = new Set<string>();
    const own = { uid: owner.uid, gid: owner.gid };
    // The data dir itself (the volume root): the agent's, not world-writable.
    tar.entry({ name: `${base}/`, type: 'directory', mode: 0o750, ...own });
    for (const f of spec.files) {
      const parts = f.path.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!dirs.has(dir)) {
          dirs.add(dir);
          tar.entry({ name: `${base}/${dir}/`, type: 'directory', mode: 0o700, ...own });
        }
      }
      tar.entry({ name: `${base}/${f.path}`, mode: f.mode ?? 0o600, ...own }, f.content);
    }
    tar.finalize();
    return tar as unknown as NodeJS.ReadableStream;
  }
}

/** Splits Docker's multiplexed log stream (8-byte frame headers) into chunks. */
async function* demux(source: AsyncIterable<Buffer> | Buffer[]): AsyncIterable<LogChunk> {
  let buf = Buffer.alloc(0);
  for await (const chunk of source) {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 8) {
      const size = buf.readUInt32BE(4);
      if (buf.length < 8 + size) break;
      yield { stream: buf[0] === 2 ? 'stderr' : 'stdout', data: buf.subarray(8, 8 + size) };
      buf = buf.subarray(8 + size);
    }
  }
}
