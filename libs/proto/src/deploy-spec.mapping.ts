import type { NodeSlotState, SlotDeploySpec, SlotPortBinding, SlotResources } from '@berth/domain';
import { DeploySpec, PortBinding, Resources, SlotState } from './gen/berth/node/v1/node_agent';

/** SlotDeploySpec (libs/domain) -> proto DeploySpec. */
export function toProtoDeploySpec(spec: SlotDeploySpec): DeploySpec {
  return {
    deploymentId: spec.deploymentId,
    slotId: spec.slotId,
    customerId: spec.customerId,
    agentTypeId: spec.agentTypeId,
    agentVersion: spec.agentVersion,
    image: spec.image,
    entrypoint: spec.entrypoint ?? [],
    hasEntrypoint: spec.entrypoint !== undefined,
    command: spec.command ?? [],
    hasCommand: spec.command !== undefined,
    env: { ...spec.env },
    user: spec.user,
    workingDir: spec.workingDir,
    ports: spec.ports.map((p) => ({ name: p.name, containerPort: p.containerPort, publish: p.publish })),
    health: spec.health ? { ...spec.health } : undefined,
    resources: toProtoResources(spec.resources),
    dataMountPath: spec.dataMountPath,
    files: (spec.files ?? []).map((f) => ({ path: f.path, content: f.content, mode: f.mode ?? 0 })),
    readOnlyRootfs: spec.readOnlyRootfs,
    capAdd: [...spec.capAdd],
  };
}

/** proto DeploySpec -> SlotDeploySpec. Structural only: the receiver still runs validateDeploySpec. */
export function fromProtoDeploySpec(p: DeploySpec): SlotDeploySpec {
  return {
    deploymentId: p.deploymentId,
    slotId: p.slotId,
    customerId: p.customerId,
    agentTypeId: p.agentTypeId,
    agentVersion: p.agentVersion,
    image: p.image,
    entrypoint: p.hasEntrypoint || p.entrypoint.length > 0 ? [...p.entrypoint] : undefined,
    command: p.hasCommand || p.command.length > 0 ? [...p.command] : undefined,
    env: { ...p.env },
    user: p.user || undefined,
    workingDir: p.workingDir || undefined,
    ports: p.ports.map((x) => ({ name: x.name, containerPort: x.containerPort, publish: x.publish })),
    health: p.health ? { ...p.health } : undefined,
    resources: fromProtoResources(p.resources),
    dataMountPath: p.dataMountPath,
    files: p.files.map((f) => ({ path: f.path, content: f.content, mode: f.mode || undefined })),
    readOnlyRootfs: p.readOnlyRootfs,
    capAdd: [...p.capAdd],
  };
}

export function toProtoResources(r: SlotResources): Resources {
  return { memoryBytes: r.memoryBytes, nanoCpus: r.nanoCpus, pidsLimit: r.pidsLimit };
}
export function fromProtoResources(r: Resources | undefined): SlotResources {
  return { memoryBytes: r?.memoryBytes ?? 0, nanoCpus: r?.nanoCpus ?? 0, pidsLimit: r?.pidsLimit ?? 0 };
}

export function toProtoPortBinding(b: SlotPortBinding): PortBinding {
  return { ...b };
}
export function fromProtoPortBinding(b: PortBinding): SlotPortBinding {
  return { ...b };
}

const STATES: Record<NodeSlotState | 'terminated', SlotState> = {
  creating: SlotState.SLOT_STATE_CREATING,
  starting: SlotState.SLOT_STATE_STARTING,
  healthy: SlotState.SLOT_STATE_HEALTHY,
  unhealthy: SlotState.SLOT_STATE_UNHEALTHY,
  stopped: SlotState.SLOT_STATE_STOPPED,
  failed: SlotState.SLOT_STATE_FAILED,
  terminated: SlotState.SLOT_STATE_TERMINATED,
};
export function toProtoSlotState(s: NodeSlotState | 'terminated'): SlotState {
  return STATES[s];
}
export function fromProtoSlotState(s: SlotState): NodeSlotState | 'terminated' | undefined {
  return (Object.keys(STATES) as (keyof typeof STATES)[]).find((k) => STATES[k] === s);
}
