/**
 * The labels Berth puts on Docker objects and reads back: what a slot's network, volume and
 * container carry, the node filter every listing uses, and the handle recovered from a container's
 * labels (after a daemon restart the labels are all there is).
 */
import type Docker from 'dockerode';
import { ContainerHandle, LABELS, RuntimeStartSpec } from '../container-runtime';

/** The labels every object of a slot carries (network, data volume, seed helper). */
export function slotLabels(spec: RuntimeStartSpec): Record<string, string> {
  return {
    [LABELS.node]: spec.nodeId,
    [LABELS.slot]: spec.slotId,
    [LABELS.customer]: spec.customerId,
    [LABELS.managed]: 'true',
  };
}

/** The labels of a slot's data volume: the slot's, and the agent type the volume is for. */
export function volumeLabels(spec: RuntimeStartSpec): Record<string, string> {
  return { ...slotLabels(spec), [LABELS.agentType]: spec.agentTypeId };
}

/** The labels of a slot's container: everything its handle is recovered from. */
export function containerLabels(spec: RuntimeStartSpec): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.node]: spec.nodeId,
    [LABELS.slot]: spec.slotId,
    [LABELS.customer]: spec.customerId,
    [LABELS.deployment]: spec.deploymentId,
    [LABELS.agentType]: spec.agentTypeId,
    [LABELS.agentVersion]: spec.agentVersion,
    [LABELS.image]: spec.image,
    ...(spec.imageDigest ? { [LABELS.imageDigest]: spec.imageDigest } : {}),
    [LABELS.ports]: JSON.stringify(spec.published),
    [LABELS.containerPorts]: JSON.stringify(spec.containerPorts),
    ...(spec.health ? { [LABELS.health]: JSON.stringify(spec.health) } : {}),
  };
}

/** The label filter value that selects this node's objects. */
export function nodeLabel(nodeId: string): string {
  return `${LABELS.node}=${nodeId}`;
}

/** The handle a container's labels describe, or undefined when they are incomplete/unreadable. */
export function handleFrom(
  containerId: string,
  l: Record<string, string>,
  hc: Docker.HostConfig | undefined,
  createdAtMs: number,
): ContainerHandle | undefined {
  try {
    const required = [
      LABELS.node,
      LABELS.slot,
      LABELS.customer,
      LABELS.deployment,
      LABELS.agentType,
      LABELS.ports,
      LABELS.containerPorts,
    ];
    if (required.some((k) => !l[k])) return undefined;
    return {
      containerId,
      nodeId: l[LABELS.node],
      slotId: l[LABELS.slot],
      deploymentId: l[LABELS.deployment],
      customerId: l[LABELS.customer],
      agentTypeId: l[LABELS.agentType],
      agentVersion: l[LABELS.agentVersion] ?? '',
      image: l[LABELS.image] ?? '',
      ...(l[LABELS.imageDigest] ? { imageDigest: l[LABELS.imageDigest] } : {}),
      published: JSON.parse(l[LABELS.ports]),
      containerPorts: JSON.parse(l[LABELS.containerPorts]),
      health: l[LABELS.health] ? JSON.parse(l[LABELS.health]) : undefined,
      resources: {
        memoryBytes: hc?.Memory ?? 0,
        nanoCpus: hc?.NanoCpus ?? 0,
        pidsLimit: hc?.PidsLimit ?? 0,
      },
      createdAtMs,
    };
  } catch {
    return undefined;
  }
}
