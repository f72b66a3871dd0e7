import { slotIdentity, type SlotResources } from '@berth/domain';
import {
  ContainerHandle,
  ContainerRunState,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  ImageInfo,
  ImageRemoval,
  LABELS,
  LabelledContainer,
  LogChunk,
  LogOptions,
  PullImageOptions,
  RuntimeEvent,
  RuntimeInfo,
  RuntimeStartSpec,
} from './container-runtime';
import { FakeImages } from './fake-images';

interface FakeContainer {
  handle: ContainerHandle;
  labels: Record<string, string>;
  state: ContainerRunState;
  exitCode: number;
  restartCount: number;
  volume: string;
}

/**
 * An in-memory ContainerRuntime for unit specs of the slot service's rules (no Docker). It keeps
 * what a real engine would (containers, networks, volumes) so a spec can check what was made and
 * removed, and lets a spec script failures: a start that throws, a container that exits, an
 * inspect answer held back (to interleave a stale answer with other work). Its images are
 * `images` (fake-images.ts: pulls counted, failed or held on demand).
 */
export class FakeRuntime implements ContainerRuntime {
  readonly containers = new Map<string, FakeContainer>();
  readonly networks = new Map<string, { slotId: string; createdAtMs: number }>();
  readonly volumes = new Set<string>();
  readonly calls: string[] = [];
  readonly images = new FakeImages();
  /** The next start() throws this (once). */
  failNextStart?: Error;
  /** Containers started from now on exit at once with this code (a crashing agent). */
  exitOnStart?: number;
  memoryBytes = 16 * 1024 ** 3;
  nanoCpus = 8e9;
  private seq = 0;
  private held?: { release: () => void; wait: Promise<void> };

  async info(): Promise<RuntimeInfo> {
    return {
      engineVersion: 'fake',
      apiVersion: 'fake',
      memoryBytes: this.memoryBytes,
      nanoCpus: this.nanoCpus,
    };
  }

  async start(
    spec: RuntimeStartSpec,
    onStep: (phase: string, message: string) => void = () => undefined,
  ): Promise<ContainerHandle> {
    this.calls.push(`start ${spec.slotId} ${spec.deploymentId}`);
    await Promise.resolve();
    this.networks.set(`net-${spec.slotId}`, { slotId: spec.slotId, createdAtMs: Date.now() });
    const volume = `berth-${spec.slotId}-${spec.agentTypeId}`;
    this.volumes.add(volume);
    onStep('volume_ready', volume);
    if (this.failNextStart) {
      const e = this.failNextStart;
      this.failNextStart = undefined;
      this.networks.delete(`net-${spec.slotId}`);
      throw e;
    }
    const containerId = `fake-${++this.seq}`;
    const handle: ContainerHandle = {
      containerId,
      nodeId: spec.nodeId,
      ...slotIdentity(spec),
      ...(spec.imageDigest ? { imageDigest: spec.imageDigest } : {}),
      published: spec.published,
      containerPorts: spec.containerPorts,
      health: spec.health,
      resources: { ...spec.resources },
      createdAtMs: Date.now(),
    };
    const crashed = this.exitOnStart !== undefined;
    this.containers.set(containerId, {
      handle,
      labels: {
        [LABELS.node]: spec.nodeId,
        [LABELS.slot]: spec.slotId,
        [LABELS.deployment]: spec.deploymentId,
      },
      state: crashed ? 'exited' : 'running',
      exitCode: this.exitOnStart ?? 0,
      restartCount: 0,
      volume,
    });
    onStep('container_started', containerId);
    return handle;
  }

  /** Sets a container's state as if the engine changed it (a crash, an external stop). */
  setState(containerId: string, state: ContainerRunState, exitCode = 0): void {
    const c = this.containers.get(containerId);
    if (!c) throw new Error(`no fake container ${containerId}`);
    c.state = state;
    c.exitCode = exitCode;
  }

  /**
   * The next inspect() answers with the state at the time it is called, but only when the returned
   * function is called: a slow answer that arrives after other things have happened.
   */
  holdNextInspect(): () => void {
    let release!: () => void;
    const wait = new Promise<void>((r) => (release = r));
    this.held = { release, wait };
    return release;
  }

  async stop(handle: ContainerHandle): Promise<void> {
    this.calls.push(`stop ${handle.slotId}`);
    this.mustGet(handle.containerId).state = 'exited';
  }

  async resume(handle: ContainerHandle): Promise<void> {
    this.calls.push(`resume ${handle.slotId}`);
    this.mustGet(handle.containerId).state = 'running';
  }

  async restart(handle: ContainerHandle): Promise<void> {
    this.calls.push(`restart ${handle.slotId}`);
    const c = this.mustGet(handle.containerId);
    c.state = 'running';
    c.restartCount++;
  }

  async destroy(
    handle: Pick<ContainerHandle, 'containerId' | 'slotId'>,
    opts: { purgeData?: boolean } = {},
  ): Promise<void> {
    this.calls.push(`destroy ${handle.slotId}`);
    await Promise.resolve();
    this.containers.delete(handle.containerId);
    for (const [id, c] of this.containers) if (c.handle.slotId === handle.slotId) this.containers.delete(id);
    this.networks.delete(`net-${handle.slotId}`);
    if (opts.purgeData)
      for (const v of [...this.volumes]) if (v.startsWith(`berth-${handle.slotId}-`)) this.volumes.delete(v);
  }

  async inspect(handle: Pick<ContainerHandle, 'containerId'>): Promise<ContainerStatus | undefined> {
    const c = this.containers.get(handle.containerId);
    const status: ContainerStatus | undefined = c && {
      state: c.state,
      running: c.state === 'running',
      exitCode: c.exitCode,
      oomKilled: false,
      restartCount: c.restartCount,
      ip: c.state === 'running' ? '10.0.0.2' : undefined,
    };
    const held = this.held;
    if (held) {
      this.held = undefined;
      await held.wait;
    }
    return status;
  }

  async stats(): Promise<ContainerStats> {
    return { memoryUsageBytes: 0, memoryLimitBytes: 0, cpuPercent: 0, pids: 1 };
  }

  async update(handle: ContainerHandle, resources: SlotResources): Promise<void> {
    this.mustGet(handle.containerId).handle.resources = { ...resources };
  }

  async *logs(_handle: ContainerHandle, _opts: LogOptions, _signal: AbortSignal): AsyncIterable<LogChunk> {
    yield { stream: 'stdout', data: Buffer.from('fake log line\n') };
  }

  /** Events a spec pushes with emit(); the iterable ends when the signal aborts. */
  private readonly listeners = new Set<(e: RuntimeEvent) => void>();
  emit(e: RuntimeEvent): void {
    for (const l of this.listeners) l(e);
  }
  async *events(signal: AbortSignal): AsyncIterable<RuntimeEvent> {
    const queue: RuntimeEvent[] = [];
    let wake: (() => void) | undefined;
    const push = (e: RuntimeEvent) => (queue.push(e), wake?.());
    const stop = () => wake?.();
    this.listeners.add(push);
    signal.addEventListener('abort', stop, { once: true });
    try {
      while (!signal.aborted) {
        const e = queue.shift();
        if (e) yield e;
        else await new Promise<void>((r) => (wake = r));
      }
    } finally {
      this.listeners.delete(push);
      signal.removeEventListener('abort', stop);
    }
  }

  async list(): Promise<LabelledContainer[]> {
    return [...this.containers.values()].map((c) => ({
      containerId: c.handle.containerId,
      labels: c.labels,
      state: c.state,
      createdAtMs: c.handle.createdAtMs,
      handle: c.handle,
    }));
  }

  async listSlotNetworks(): Promise<
    { networkId: string; slotId: string; createdAtMs: number; containers: number }[]
  > {
    return [...this.networks].map(([networkId, n]) => ({
      networkId,
      slotId: n.slotId,
      createdAtMs: n.createdAtMs,
      containers: [...this.containers.values()].filter((c) => c.handle.slotId === n.slotId).length,
    }));
  }

  async removeNetwork(networkId: string): Promise<void> {
    this.networks.delete(networkId);
  }

  async removeContainer(containerId: string): Promise<void> {
    this.containers.delete(containerId);
  }

  pullImage(image: string, opts?: PullImageOptions): Promise<void> {
    return this.images.pullImage(image, opts);
  }

  inspectImage(image: string): Promise<ImageInfo | null> {
    return this.images.inspectImage(image);
  }

  imageDiskUsage(): Promise<number> {
    return this.images.imageDiskUsage();
  }

  removeImage(image: string): Promise<ImageRemoval> {
    // The engine refuses to remove an image a container (running or stopped) uses.
    if ([...this.containers.values()].some((c) => c.handle.image === image)) return Promise.resolve('in_use');
    return this.images.removeImage(image);
  }

  private mustGet(containerId: string): FakeContainer {
    const c = this.containers.get(containerId);
    if (!c) throw new Error(`no fake container ${containerId}`);
    return c;
  }
}
