// Scheduling: choosing the node a deploy-like deployment runs on, waiting for room, and choosing again when a node drops out.
import type { SlotDeploySpec } from '@berth/domain';
import type { DeploymentRecord, SlotRuntime } from '../deployments.repository';
import type { RunnerContext } from './context';
import { emit } from './progress';
import { releaseReservation, reserve, room } from './reserve';

/**
 * The deployment's node: the one it already has (a resumed run), the slot's own for an in-place
 * switch or rollback, or a newly placed and reserved one. Null while no node has room.
 */
export async function schedule(ctx: RunnerContext, d: DeploymentRecord, slot: SlotRuntime, spec: SlotDeploySpec): Promise<string | null> {
  if (d.node_id) return d.node_id;
  let nodeId: string;
  const inPlace = (d.kind === 'switch' || d.kind === 'rollback') && slot.node_id && nodeUsable(ctx, slot.node_id);
  if (inPlace) {
    nodeId = slot.node_id!;
    await ctx.repo.assignWithoutReservation(d.id, nodeId);
  } else {
    const placed = await placeAndReserve(ctx, d, slot, spec);
    if ('reason' in placed) {
      await waitForRoom(ctx, d, slot, placed.reason);
      return null;
    }
    nodeId = placed.nodeId;
  }
  await emit(ctx, d, 'scheduled', `placed on node ${nodeId}`, { node_id: nodeId });
  return nodeId;
}

/**
 * The node stopped answering mid-deploy: give its room back and place the slot on another node.
 * Returns the deployment, retargeted away from that node, to run again.
 */
export async function placeElsewhere(ctx: RunnerContext, d: DeploymentRecord, slot: SlotRuntime, nodeId: string, reason: string): Promise<DeploymentRecord> {
  await emit(ctx, d, 'rescheduling', `node ${nodeId} is unreachable (${reason}); placing the slot on another node`);
  // Its copy, if one was made, is removed when the node comes back (FleetReactions.reconcileNode).
  await ctx.nodes.terminate(nodeId, slot.id, false).catch(() => undefined);
  const fresh = (await ctx.repo.get(d.id)) ?? d;
  await releaseReservation(ctx, fresh, nodeId);
  await ctx.repo.retarget(d.id, { ...d.desired, exclude_nodes: [...(d.desired.exclude_nodes ?? []), nodeId] });
  return (await ctx.repo.get(d.id))!;
}

function nodeUsable(ctx: RunnerContext, nodeId: string): boolean {
  const n = ctx.placement.getNode(nodeId);
  return !!n && n.status === 'up';
}

async function placeAndReserve(ctx: RunnerContext, d: DeploymentRecord, slot: SlotRuntime, spec: SlotDeploySpec): Promise<{ nodeId: string } | { reason: string }> {
  const { memory_mb, cpu_millis } = d.desired;
  const exclude = new Set(d.desired.exclude_nodes ?? []);
  const demand = room(memory_mb, cpu_millis, spec.ports.filter((p) => p.publish).length);
  for (let tries = 0; tries < 8; tries++) {
    const r = ctx.placement.placeAndReserve(
      { slotId: slot.id, ...demand, affinity: { preferNodeId: d.desired.from_node_id ? undefined : (slot.node_id ?? undefined) }, image: spec.image },
      { exclude },
    );
    if (!r.ok) return { reason: r.message };
    if (await reserve(ctx, d, r.nodeId, demand)) return { nodeId: r.nodeId };
    // The in-memory view was stale (another coordinator, or a heartbeat not seen yet): try the next node.
    exclude.add(r.nodeId);
  }
  return { reason: 'every candidate node filled up while placing; will try again' };
}

async function waitForRoom(ctx: RunnerContext, d: DeploymentRecord, slot: SlotRuntime, reason: string): Promise<void> {
  const first = d.status !== 'waiting_capacity';
  await ctx.repo.setStatus(d.id, 'waiting_capacity');
  if (d.kind === 'deploy' || slot.state === 'pending') {
    await ctx.repo.updateSlot(slot.id, { state: 'pending', state_reason: `waiting for room: ${reason}` });
  }
  if (first || slot.state_reason !== `waiting for room: ${reason}`) await emit(ctx, d, 'waiting_capacity', reason);
}
