import type { SlotFileSpec, SlotHealthSpec, SlotIdentity, SlotPortBinding, SlotResources } from '@berth/domain';

/**
 * Our runtime contract, in Nomad's driver shape (start -> handle, stop, destroy, inspect, stats,
 * logs, events, recover). It carries Berth's types only; docker.runtime.ts (with its parts in
 * docker/) is the one place that speaks Docker, fake.runtime.ts the one used by unit specs.
 */
export interface RuntimeStartSpec extends SlotIdentity {
  nodeId: string;
  entrypoint?: string[];
  command?: string[];
  env: Record<string, string>;
  user?: string;
  workingDir?: string;
  /** Published ports with the host ports given from the pool. */
  published: SlotPortBinding[];
  /** Every container port the agent listens on (published or not), by name. */
  containerPorts: { name: string; containerPort: number }[];
  health?: SlotHealthSpec;
  resources: SlotResources;
  dataMountPath: string;
  files: SlotFileSpec[];
  readOnlyRootfs: boolean;
  capAdd: string[];
  restartMaxRetries: number;
}

/** What identifies a slot's container, recoverable from the labels after a daemon restart. */
export interface ContainerHandle extends SlotIdentity {
  containerId: string;
  nodeId: string;
  published: SlotPortBinding[];
  containerPorts: { name: string; containerPort: number }[];
  health?: SlotHealthSpec;
  resources: SlotResources;
  createdAtMs: number;
}

export type ContainerRunState =
  'created' | 'running' | 'restarting' | 'paused' | 'exited' | 'dead' | 'removing';

export interface ContainerStatus {
  state: ContainerRunState;
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
  restartCount: number;
  /** The container's IP on its slot network, when running. */
  ip?: string;
  startedAtMs?: number;
  finishedAtMs?: number;
}

export interface ContainerStats {
  memoryUsageBytes: number;
  memoryLimitBytes: number;
  cpuPercent: number;
  pids: number;
}

export interface LogChunk {
  stream: 'stdout' | 'stderr';
  data: Buffer;
}

export interface LogOptions {
  tail?: number;
  follow: boolean;
  sinceMs?: number;
}

/** A container event the reconciler reacts to. */
export interface RuntimeEvent {
  type: 'start' | 'die' | 'oom' | 'stop' | 'destroy' | 'health' | 'other';
  containerId: string;
  slotId?: string;
  atMs: number;
}

/** A labelled object found on the engine (for adoption and reaping). */
export interface LabelledContainer {
  containerId: string;
  labels: Record<string, string>;
  state: ContainerRunState;
  createdAtMs: number;
  /** Parsed handle, or undefined when the labels are incomplete/unreadable (an orphan). */
  handle?: ContainerHandle;
}

export interface RuntimeInfo {
  engineVersion: string;
  apiVersion: string;
  memoryBytes: number;
  nanoCpus: number;
}

export interface ContainerRuntime {
  info(): Promise<RuntimeInfo>;
  /**
   * Creates the slot's network and data volume (idempotent), the container with every limit and
   * hardening, writes spec.files into the data volume, and starts it. On failure it removes what it
   * created for the container (not the volume) and rethrows. `onStep` reports progress.
   */
  start(spec: RuntimeStartSpec, onStep?: (phase: string, message: string) => void): Promise<ContainerHandle>;
  /** Stops (SIGTERM, then SIGKILL after timeoutS). The restart policy does not bring it back. */
  stop(handle: ContainerHandle, timeoutS?: number): Promise<void>;
  /** Starts a stopped container again. */
  resume(handle: ContainerHandle): Promise<void>;
  restart(handle: ContainerHandle, timeoutS?: number): Promise<void>;
  /** Removes the container and the slot network; data volumes stay unless purgeData. */
  destroy(
    handle: Pick<ContainerHandle, 'containerId' | 'slotId'>,
    opts?: { purgeData?: boolean },
  ): Promise<void>;
  inspect(handle: Pick<ContainerHandle, 'containerId'>): Promise<ContainerStatus | undefined>;
  stats(handle: ContainerHandle): Promise<ContainerStats>;
  update(handle: ContainerHandle, resources: SlotResources): Promise<void>;
  logs(handle: ContainerHandle, opts: LogOptions, signal: AbortSignal): AsyncIterable<LogChunk>;
  /** Subscribes to container events of this node; the iterable ends when the engine connection drops. */
  events(signal: AbortSignal): AsyncIterable<RuntimeEvent>;
  /** Every container labelled for this node (recover handles after a restart). */
  list(): Promise<LabelledContainer[]>;
  /** Slot networks of this node that have no container (leftovers of interrupted deploys). */
  listSlotNetworks(): Promise<
    { networkId: string; slotId: string; createdAtMs: number; containers: number }[]
  >;
  removeNetwork(networkId: string): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
}

export const LABELS = {
  slot: 'berth.slot',
  customer: 'berth.customer',
  deployment: 'berth.deployment',
  node: 'berth.node',
  agentType: 'berth.agent-type',
  agentVersion: 'berth.agent-version',
  image: 'berth.image',
  ports: 'berth.ports',
  containerPorts: 'berth.container-ports',
  health: 'berth.health',
  managed: 'berth.managed',
} as const;

/**
 * Docker object names. Network and container per slot carry the node id (names are global to an
 * engine, and tests or a second daemon may share one); the data volume is per slot and agent type.
 */
export const names = {
  network: (nodeId: string, slotId: string) => `berth-${nodeId}-${slotId}`,
  volume: (slotId: string, agentTypeId: string) => `berth-${slotId}-${agentTypeId}`,
  container: (nodeId: string, slotId: string) => `berth-${nodeId}-${slotId}`,
};
