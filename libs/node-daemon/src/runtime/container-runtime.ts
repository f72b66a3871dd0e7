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
  /** The image's registry digest, kept on the container (label) so adoption keeps it. */
  imageDigest?: string;
}

/** What identifies a slot's container, recoverable from the labels after a daemon restart. */
export interface ContainerHandle extends SlotIdentity {
  /** The image's registry digest (repository@sha256:...) when it has one (label berth.image-digest). */
  imageDigest?: string;
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

/** Credentials for one registry, for one pull (never stored, logged or put in a message). */
export interface RegistryCredentials {
  /** The registry host as in the image reference (host[:port]; docker.io for Docker Hub). */
  server: string;
  username: string;
  password: string;
}

/**
 * One layer's progress during a pull, as the engine reports it: `waiting` (known, not downloading
 * yet), `downloading` (with bytes), `downloaded` (checksum verified, extracting), `done` (pulled,
 * or `present` already on the node).
 */
export interface ImageLayerProgress {
  layerId: string;
  phase: 'waiting' | 'downloading' | 'downloaded' | 'done';
  currentBytes?: number;
  /** The layer's (compressed) size, once the engine knows it. */
  totalBytes?: number;
  /** With `done`: the layer was on the node already; nothing was downloaded. */
  present?: boolean;
}

export interface PullImageOptions {
  auth?: RegistryCredentials;
  onLayer?: (p: ImageLayerProgress) => void;
  /** Aborting stops the engine's pull; the call then rejects. */
  signal?: AbortSignal;
}

/** An image on the node. */
export interface ImageInfo {
  id: string;
  /** `repository@sha256:...` for each registry repository the image came from. */
  repoDigests: string[];
  sizeBytes: number;
}

/**
 * Why the engine could not pull, in our words: `not_found` (no such repository, tag or digest),
 * `unauthorized` (credentials refused or missing), `unreachable` (connection refused, no route,
 * DNS, TLS), `transient` (connection reset, registry 5xx, timeouts: worth another try), `failed`
 * (anything else). `detail` is the engine's message, which never carries credentials.
 */
export type PullFailureKind = 'not_found' | 'unauthorized' | 'unreachable' | 'transient' | 'failed';

export class ImagePullFailure extends Error {
  constructor(
    readonly kind: PullFailureKind,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'ImagePullFailure';
  }
}

/** The image half of the runtime contract (the image service sees only this). */
export interface ImageRuntime {
  /** Pulls `image` (by tag or digest); rejects with ImagePullFailure, or on abort. */
  pullImage(image: string, opts?: PullImageOptions): Promise<void>;
  /** The image when it is on the node, else null (never a registry round trip). */
  inspectImage(image: string): Promise<ImageInfo | null>;
  /** Bytes the engine's images take on disk (shared layers counted once). */
  imageDiskUsage(): Promise<number>;
  /**
   * Removes the reference `image` (never forced): `removed`, `in_use` when the engine refuses
   * because a container uses it, `missing` when it is not on the node.
   */
  removeImage(image: string): Promise<ImageRemoval>;
}

export type ImageRemoval = 'removed' | 'in_use' | 'missing';

export interface ContainerRuntime extends ImageRuntime {
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
  imageDigest: 'berth.image-digest',
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
