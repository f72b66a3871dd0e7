import {
  slotIdentity,
  type NodeSlotState,
  type SlotDeploySpec,
  type SlotHealthSpec,
  type SlotIdentity,
  type SlotPortBinding,
  type SlotResources,
} from '@berth/domain';
import type { ContainerHandle } from '../runtime/container-runtime';

/** The daemon's in-memory view of one slot (rebuilt from container labels after a restart). */
export interface SlotRecord extends SlotIdentity {
  state: NodeSlotState;
  message: string;
  ports: SlotPortBinding[];
  containerPorts: { name: string; containerPort: number }[];
  health?: SlotHealthSpec;
  resources: SlotResources;
  handle?: ContainerHandle;
  /** The image's registry digest (repository@sha256:...), when it has one. */
  imageDigest?: string;
  restartCount: number;
  oomKilled: boolean;
  createdAtMs: number;
  stateSinceMs: number;
  lastProbeAtMs: number;
  /** Probing bookkeeping. */
  probe: {
    startedAtMs: number;
    failures: number;
    everHealthy: boolean;
    deploying: boolean;
    timer?: NodeJS.Timeout;
    containerIp?: string;
    /** The last probe in the start period failed: the next one asks the engine whether the container still runs. */
    recheck?: boolean;
  };
  /** Stopped on purpose (Stop): an exit is not a failure. */
  stoppedByUs: boolean;
  /** Serialises commands on the slot. */
  busy?: Promise<unknown>;
}

/** States whose slot holds resources (capacity, ports). */
export function holdsResources(r: SlotRecord): boolean {
  return r.state !== 'failed' || r.handle !== undefined;
}

/** A just-admitted deployment's record: `creating`, no ports or container yet. */
export function newDeployRecord(spec: SlotDeploySpec): SlotRecord {
  const now = Date.now();
  return {
    ...slotIdentity(spec),
    state: 'creating',
    message: 'accepted',
    ports: [],
    containerPorts: spec.ports.map((p) => ({ name: p.name, containerPort: p.containerPort })),
    health: spec.health,
    resources: { ...spec.resources },
    restartCount: 0,
    oomKilled: false,
    createdAtMs: now,
    stateSinceMs: now,
    lastProbeAtMs: 0,
    probe: { startedAtMs: 0, failures: 0, everHealthy: false, deploying: true },
    stoppedByUs: false,
  };
}
