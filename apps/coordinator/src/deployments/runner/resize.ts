// Resize: new limits for a slot, taken on its node in place when there is room, else by moving the slot.
import { MiB } from '@berth/domain';
import { addonColumns, type DeploymentRecord } from '../deployments.repository';
import type { RunnerContext } from './context';
import { finish, requireLiveSlot } from './finish';
import { withRetry } from './node-call';
import { room } from './reserve';

export async function runResize(ctx: RunnerContext, d: DeploymentRecord): Promise<void> {
  const slot = await requireLiveSlot(ctx, d);
  if (!slot) return;
  const { memory_mb, cpu_millis } = d.desired;
  const flags = addonColumns(d.desired.addons);
  if (!slot.node_id || slot.state === 'pending' || slot.state === 'failed') {
    await ctx.repo.updateSlot(slot.id, { memory_mb, cpu_millis, ...flags });
    return finish(ctx, d, 'succeeded', 'new limits recorded; they apply at the next deploy');
  }
  const dm = memory_mb - slot.memory_mb;
  const dc = cpu_millis - slot.cpu_millis;
  if (!(await ctx.nodeRoom.resize(slot.node_id, dm, dc))) {
    const move = await ctx.repo.create(slot.id, 'move', {
      ...d.desired,
      exclude_nodes: [slot.node_id],
      from_node_id: slot.node_id,
    });
    await finish(ctx, d, 'succeeded', `node ${slot.node_id} has no room for the new limits; moving the slot`, { move_deployment_id: move.id });
    void ctx.submit(move);
    return;
  }
  await ctx.repo.setStatus(d.id, 'running');
  try {
    await withRetry(ctx, d, 'update resources', () =>
      ctx.nodes.updateResources(slot.node_id!, slot.id, { memoryBytes: memory_mb * MiB, nanoCpus: cpu_millis * 1_000_000, pidsLimit: 512 }),
    );
  } catch (e) {
    await ctx.nodeRoom.resize(slot.node_id, -dm, -dc);
    throw e;
  }
  await ctx.repo.updateSlot(slot.id, { memory_mb, cpu_millis, ...flags });
  const delta = room(Math.abs(dm), Math.abs(dc));
  if (dm >= 0 && dc >= 0) ctx.placement.reserve(slot.node_id, delta);
  else if (dm <= 0 && dc <= 0) ctx.placement.release(slot.node_id, delta);
  await finish(ctx, d, 'succeeded', `limits now ${memory_mb} MiB / ${cpu_millis / 1000} CPU`);
}
