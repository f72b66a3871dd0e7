// Reserving: a node's room, taken atomically in the database and mirrored in placement's memory, and given back.
import { MiB } from '@berth/domain';
import type { SlotDemand } from '../../scheduler/placement';
import type { DeploymentRecord, SlotRuntime } from '../deployments.repository';
import type { RunnerContext } from './context';

/**
 * Takes the room placement chose, in the same transaction that assigns the node to the deployment.
 * False when the database disagrees (the node filled up meanwhile): placement's hold is dropped.
 */
export async function reserve(ctx: RunnerContext, d: DeploymentRecord, nodeId: string, demand: SlotDemand): Promise<boolean> {
  const { memory_mb, cpu_millis } = d.desired;
  if (await ctx.repo.reserveAndAssign(d.id, nodeId, memory_mb, cpu_millis)) {
    ctx.placement.confirm(nodeId, demand);
    return true;
  }
  ctx.placement.abandon(nodeId, demand);
  return false;
}

/** Gives back the room a deployment reserved (`fresh`: the reservation may be newer than the record the run started with). */
export async function releaseReservation(ctx: RunnerContext, fresh: DeploymentRecord, nodeId: string): Promise<void> {
  await ctx.repo.releaseDeploymentReservation(fresh.id);
  ctx.placement.release(nodeId, room(fresh.reserved_memory_mb, fresh.reserved_cpu_millis));
}

/** Gives back the room a slot holds on a node (terminated, or moved off it). */
export async function releaseSlotRoom(ctx: RunnerContext, nodeId: string, slot: SlotRuntime): Promise<void> {
  await ctx.nodeRoom.release(nodeId, slot.memory_mb, slot.cpu_millis);
  ctx.placement.release(nodeId, room(slot.memory_mb, slot.cpu_millis));
}

export function room(memoryMb: number, cpuMillis: number, ports = 0): SlotDemand {
  return { memoryBytes: memoryMb * MiB, nanoCpus: cpuMillis * 1_000_000, ports };
}
