import type { NodeSlotState, SlotDeploySpec, SlotPortBinding, SlotResources } from '@berth/domain';
import type { RegistryAuth } from '../images/registry-credentials.service';

/** Why a node could not get a deployment's image (the readable message says it in a sentence). */
export type ImageFailureReason = 'image_not_found' | 'registry_auth' | 'registry_unreachable' | 'image_too_large' | 'image_pull' | 'image_over_limit';

/** How the node makes a deploy's image ready beyond its credentials (an image a customer named). */
export interface ImagePullPolicy {
  /** Largest image allowed (unpacked on the node); over it the deploy fails with image_over_limit. */
  maxImageBytes?: number;
  /** Ask the registry even when the node has the image, with this deploy's credentials only. */
  alwaysPull?: boolean;
}

/** How far a node's image pull is. */
export interface ImagePull {
  layersDone: number;
  layersTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/** One slot as a node daemon reports it, in our own terms (no proto or Docker types). */
export interface NodeSlot {
  slotId: string;
  deploymentId: string;
  agentTypeId: string;
  state: NodeSlotState | 'terminated';
  message: string;
  ports: SlotPortBinding[];
  oomKilled: boolean;
  /** The image the container runs, by digest (repository@sha256:...), when the node knows it. */
  imageDigest?: string;
  /** Set on a deploy's result when the node could tell why it failed. */
  failure?: { reason: ImageFailureReason; message: string };
}

export interface NodeDeployProgress {
  phase: string;
  message: string;
  state: NodeSlotState | 'terminated' | undefined;
  /** With phase image_pull. */
  pull?: ImagePull;
  /** On the failed last event, when the node could tell why (the deployment's own final event says it). */
  failureReason?: ImageFailureReason;
}

/**
 * What the deployment flow needs from a node daemon. The gRPC implementation is
 * grpc-node-gateway.ts; unit specs use an in-memory fake. Errors are libs/domain errors
 * (UnavailableError means "try again": every call is safe to retry).
 */
export interface NodeGateway {
  /**
   * Deploys and follows progress until healthy or failed; idempotent by spec.deploymentId.
   * `registryAuth` lets the node pull spec.image from a private registry (never logged or stored);
   * `pull` sets the size limit and always-pull of an image a customer named.
   */
  deploy(
    nodeId: string,
    spec: SlotDeploySpec,
    replace: boolean,
    onProgress: (p: NodeDeployProgress) => Promise<void>,
    registryAuth?: RegistryAuth,
    pull?: ImagePullPolicy,
  ): Promise<NodeSlot>;
  terminate(nodeId: string, slotId: string, purgeData: boolean): Promise<void>;
  power(nodeId: string, slotId: string, action: 'stop' | 'start' | 'restart'): Promise<NodeSlot>;
  updateResources(nodeId: string, slotId: string, resources: SlotResources): Promise<NodeSlot>;
  listSlots(nodeId: string): Promise<NodeSlot[]>;
  /** Container output: tail first, then new output while follow; cancel with the signal. */
  logs(nodeId: string, slotId: string, opts: { tail: number; follow: boolean; signal?: AbortSignal }): AsyncIterable<Buffer>;
}

export const NODE_GATEWAY = Symbol('NodeGateway');
