import type { NodeSlotState, SlotHealthSpec, SlotPortBinding, SlotResources } from '@berth/domain';
import type { ContainerHandle } from '../runtime/container-runtime';

/** The daemon's in-memory view of one slot (rebuilt from container labels after a restart). */
export interface SlotRecord {
  slotId: string;
  deploymentId: string;
  customerId: string;
  agentTypeId: string;
  agentVersion: string;
  image: string;
  state: NodeSlotState;
  message: string;
  ports: SlotPortBinding[];
  containerPorts: { name: string; containerPort: number }[];
  health?: SlotHealthSpec;
  resources: SlotResources;
  handle?: ContainerHandle;
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
