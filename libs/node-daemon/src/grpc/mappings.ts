/**
 * The gRPC edge's mappings from the daemon's types to proto messages: slots, capacity, deploy
 * events (with pull progress and failure reasons) and registry credentials.
 */
import {
  Capacity as ProtoCapacity,
  DeployEvent,
  DeployRequest,
  FailureReason,
  ImagePullProgress,
  RegistryAuth,
  Slot,
  toProtoSlotState,
} from '@berth/proto';
import { NodeSlotState } from '@berth/domain';
import type { ImageFailureReason } from '../images/image-errors';
import type { EnsureOptions } from '../images/image.service';
import type { PullProgress } from '../images/pull-progress';
import type { RegistryCredentials } from '../runtime/container-runtime';
import type { DeployProgress } from '../slots/deployment-tracker';
import type { SlotRecord } from '../slots/slot-record';
import type { Capacity } from '../slots/slot-table';

export function toProtoSlot(r: SlotRecord, state: NodeSlotState | 'terminated' = r.state): Slot {
  return {
    slotId: r.slotId,
    deploymentId: r.deploymentId,
    customerId: r.customerId,
    agentTypeId: r.agentTypeId,
    agentVersion: r.agentVersion,
    image: r.image,
    state: toProtoSlotState(state),
    message: r.message,
    ports: r.ports.map((p) => ({ ...p })),
    resources: { ...r.resources },
    containerId: r.handle?.containerId ?? '',
    restartCount: r.restartCount,
    createdAtMs: r.createdAtMs,
    stateSinceMs: r.stateSinceMs,
    lastProbeAtMs: r.lastProbeAtMs,
    oomKilled: r.oomKilled,
    imageDigest: r.imageDigest ?? '',
  };
}

export function toProtoCapacity(c: Capacity): ProtoCapacity {
  return {
    allocatableMemoryBytes: c.allocatableMemoryBytes,
    allocatableNanoCpus: c.allocatableNanoCpus,
    allocatedMemoryBytes: c.allocatedMemoryBytes,
    allocatedNanoCpus: c.allocatedNanoCpus,
    freeMemoryBytes: Math.max(0, c.allocatableMemoryBytes - c.allocatedMemoryBytes),
    freeNanoCpus: Math.max(0, c.allocatableNanoCpus - c.allocatedNanoCpus),
    slotsByState: c.slotsByState,
    portsTotal: c.portsTotal,
    portsFree: c.portsFree,
    dockerUp: c.dockerUp,
  };
}

export function toProtoDeployEvent(p: DeployProgress): DeployEvent {
  return {
    deploymentId: p.deploymentId,
    slotId: p.slotId,
    phase: p.phase,
    state: toProtoSlotState(p.state),
    message: p.message,
    atMs: p.atMs,
    final: p.final,
    slot: toProtoSlot(p.slot, p.state),
    pull: p.pull && toProtoPullProgress(p.pull),
    failureReason: toProtoFailureReason(p.failureReason),
  };
}

export function toProtoPullProgress(p: PullProgress): ImagePullProgress {
  return { ...p };
}

const REASONS: Record<ImageFailureReason, FailureReason> = {
  image_not_found: FailureReason.FAILURE_REASON_IMAGE_NOT_FOUND,
  registry_auth: FailureReason.FAILURE_REASON_REGISTRY_AUTH,
  registry_unreachable: FailureReason.FAILURE_REASON_REGISTRY_UNREACHABLE,
  image_too_large: FailureReason.FAILURE_REASON_IMAGE_TOO_LARGE,
  image_pull: FailureReason.FAILURE_REASON_IMAGE_PULL,
  image_over_limit: FailureReason.FAILURE_REASON_IMAGE_OVER_LIMIT,
};

export function toProtoFailureReason(r: ImageFailureReason | undefined): FailureReason {
  return r ? REASONS[r] : FailureReason.FAILURE_REASON_UNSPECIFIED;
}

/** How a Deploy's image is made ready: always asked of the registry, and at most max_image_bytes (both for an image a customer named). */
export function fromProtoImageOptions(r: Pick<DeployRequest, 'alwaysPull' | 'maxImageBytes'>): EnsureOptions | undefined {
  if (!r.alwaysPull && !r.maxImageBytes) return undefined;
  return { alwaysPull: r.alwaysPull === true, ...(r.maxImageBytes ? { maxBytes: r.maxImageBytes } : {}) };
}

/** Credentials for one pull; unset or empty ones mean a public image. */
export function fromProtoRegistryAuth(a: RegistryAuth | undefined): RegistryCredentials | undefined {
  if (!a || (!a.username && !a.password)) return undefined;
  return { server: a.server, username: a.username, password: a.password };
}
