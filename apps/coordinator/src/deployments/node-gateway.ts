import type { NodeSlotState, SlotDeploySpec, SlotPortBinding, SlotResources } from '@berth/domain';

/** One slot as a node daemon reports it, in our own terms (no proto or Docker types). */
export interface NodeSlot {
  slotId: string;
  deploymentId: string;
  agentTypeId: string;
  state: NodeSlotState | 'terminated';
  message: string;
  ports: SlotPortBinding[];
  oomKilled: boolean;
}

export interface NodeDeployProgress {
  phase: string;
  message: string;
  state: NodeSlotState | 'terminated' | undefined;
}

/**
 * What the deployment flow needs from a node daemon. The gRPC implementation is
 * grpc-node-gateway.ts; unit specs use an in-memory fake. Errors are libs/domain errors
 * (UnavailableError means "try again": every call is safe to retry).
 */
export interface NodeGateway {
  /** Deploys and follows progress until healthy or failed; idempotent by spec.deploymentId. */
  deploy(nodeId: string, spec: SlotDeploySpec, replace: boolean, onProgress: (p: NodeDeployProgress) => Promise<void>): Promise<NodeSlot>;
  terminate(nodeId: string, slotId: string, purgeData: boolean): Promise<void>;
  power(nodeId: string, slotId: string, action: 'stop' | 'start' | 'restart'): Promise<NodeSlot>;
  updateResources(nodeId: string, slotId: string, resources: SlotResources): Promise<NodeSlot>;
  listSlots(nodeId: string): Promise<NodeSlot[]>;
  /** Container output: tail first, then new output while follow; cancel with the signal. */
  logs(nodeId: string, slotId: string, opts: { tail: number; follow: boolean; signal?: AbortSignal }): AsyncIterable<Buffer>;
}

export const NODE_GATEWAY = Symbol('NodeGateway');
