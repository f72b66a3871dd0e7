/**
 * What the coordinator asks a node daemon to run in a slot. This is Berth's own type:
 * the coordinator builds it from a rendered compose template (libs/templates), the node
 * daemon receives it over gRPC (proto/berth/node/v1) and turns it into a container.
 * No Docker or compose type leaks through it.
 */
export interface SlotPortSpec {
  /** Stable name the template uses, e.g. 'gateway', 'bridge', 'health'. */
  name: string;
  containerPort: number;
  /** Whether the port is published on the host (from the node's pool). */
  publish: boolean;
}

export interface SlotHealthSpec {
  /** HTTP path probed with GET; 2xx means healthy. */
  path: string;
  /** Name of the port (in `ports`) the probe targets. */
  portName: string;
  startPeriodMs: number;
  intervalMs: number;
  timeoutMs: number;
  failureThreshold: number;
}

export interface SlotResources {
  memoryBytes: number;
  nanoCpus: number;
  pidsLimit: number;
}

/** A file written into the slot's data volume before the container starts (agent config). */
export interface SlotFileSpec {
  /** Path relative to the data mount, no '..'. */
  path: string;
  content: string;
  /** Octal file mode, default 0o600. */
  mode?: number;
}

/**
 * What names a slot's deployment: the same in the spec, in the daemon's record of the slot and
 * in its container's labels.
 */
export interface SlotIdentity {
  slotId: string;
  /** Idempotency key: the same deployment id twice never makes a second container. */
  deploymentId: string;
  customerId: string;
  /** Agent type id; each agent type has its own data volume in the slot. */
  agentTypeId: string;
  agentVersion: string;
  image: string;
}

/** The identity fields of anything that carries them (a spec, a record, a container handle). */
export function slotIdentity(of: SlotIdentity): SlotIdentity {
  return {
    slotId: of.slotId,
    deploymentId: of.deploymentId,
    customerId: of.customerId,
    agentTypeId: of.agentTypeId,
    agentVersion: of.agentVersion,
    image: of.image,
  };
}

export interface SlotDeploySpec extends SlotIdentity {
  entrypoint?: string[];
  command?: string[];
  env: Record<string, string>;
  /** "uid:gid" or empty for the image default. */
  user?: string;
  workingDir?: string;
  ports: SlotPortSpec[];
  health?: SlotHealthSpec;
  resources: SlotResources;
  /** Where the slot's data volume is mounted inside the container. */
  dataMountPath: string;
  files?: SlotFileSpec[];
  readOnlyRootfs: boolean;
  /** Capabilities added back after dropping ALL; must be in CAP_ALLOW_LIST. */
  capAdd: string[];
}

/** The only capabilities a spec may add back (everything else stays dropped). */
export const CAP_ALLOW_LIST: readonly string[] = ['CHOWN', 'SETUID', 'SETGID', 'DAC_OVERRIDE', 'FOWNER', 'NET_BIND_SERVICE'];

/** Node-side slot states (the node daemon's view of one container). */
export type NodeSlotState = 'creating' | 'starting' | 'healthy' | 'unhealthy' | 'stopped' | 'failed';

/** Host port given to one of the slot's published ports. */
export interface SlotPortBinding {
  name: string;
  containerPort: number;
  hostIp: string;
  hostPort: number;
}

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;
export const NANO_CPUS = 1e9;
