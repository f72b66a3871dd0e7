/**
 * Slot containers: created with every limit and hardening, started, stopped, resumed, restarted,
 * updated, inspected, measured, removed, and listed for adoption after a daemon restart.
 */
import type Docker from 'dockerode';
import type { SlotResources } from '@berth/domain';
import {
  ContainerHandle,
  ContainerRunState,
  ContainerStats,
  ContainerStatus,
  LabelledContainer,
  names,
  RuntimeStartSpec,
} from '../container-runtime';
import { retryTransientEngineError, unlessStatus } from './errors';
import { containerLabels, handleFrom, nodeLabel } from './labels';

/**
 * Every slot container is created here, so the hardening lives here: no privileged mode, no host
 * namespaces, no devices, no host paths, no Docker socket are ever set; caps dropped,
 * no-new-privileges, memory = memory+swap, CPU, PIDs.
 */
export class DockerContainers {
  constructor(
    private readonly docker: Docker,
    private readonly nodeId: string,
  ) {}

  /**
   * Creates the slot's container on its network with its data volume mounted, and starts it; a
   * container that does not start is removed again.
   */
  async create(
    spec: RuntimeStartSpec,
    networkName: string,
    volumeName: string,
    onStep: (phase: string, message: string) => void,
  ): Promise<ContainerHandle> {
    const labels = containerLabels(spec);
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
      // 304: started already (a first try that Docker answered with a firewall race after all).
      await retryTransientEngineError(() => container.start().catch(unlessStatus(304)));
      onStep('container_started', 'container started');
    } catch (e) {
      await container.remove({ force: true }).catch(() => undefined);
      throw e;
    }
    const inspected = await container.inspect();
    return handleFrom(container.id, labels, inspected.HostConfig, Date.parse(inspected.Created))!;
  }

  async stop(containerId: string, timeoutS: number): Promise<void> {
    // 304: already stopped.
    await this.docker.getContainer(containerId).stop({ t: timeoutS }).catch(unlessStatus(304));
  }

  async resume(containerId: string): Promise<void> {
    // 304: already running.
    await this.docker.getContainer(containerId).start().catch(unlessStatus(304));
  }

  async restart(containerId: string, timeoutS: number): Promise<void> {
    await this.docker.getContainer(containerId).restart({ t: timeoutS });
  }

  async remove(containerId: string): Promise<void> {
    // 404: gone already.
    await this.docker.getContainer(containerId).remove({ force: true }).catch(unlessStatus(404));
  }

  async inspect(containerId: string): Promise<ContainerStatus | undefined> {
    let c: Docker.ContainerInspectInfo;
    try {
      c = await this.docker.getContainer(containerId).inspect();
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

  async stats(containerId: string): Promise<ContainerStats> {
    const s = (await this.docker
      .getContainer(containerId)
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

  async update(containerId: string, r: SlotResources): Promise<void> {
    await this.docker.getContainer(containerId).update({
      Memory: r.memoryBytes,
      MemorySwap: r.memoryBytes,
      NanoCpus: r.nanoCpus,
      PidsLimit: r.pidsLimit,
    });
  }

  /** Every container labelled for this node, with its handle when its labels are complete. */
  async list(): Promise<LabelledContainer[]> {
    const list = await this.docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: [nodeLabel(this.nodeId)] }),
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
        handle: handleFrom(c.Id, c.Labels, hostConfig, c.Created * 1000),
      });
    }
    return out;
  }
}
