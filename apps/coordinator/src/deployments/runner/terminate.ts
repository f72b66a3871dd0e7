// Terminate: the slot's container goes from its node and its room is given back; its data stays for the retention period.
import type { DeploymentRecord } from '../deployments.repository';
import { errorMessage, type RunnerContext } from './context';
import { finish } from './finish';
import { withRetry } from './node-call';
import { emit } from './progress';
import { releaseSlotRoom } from './reserve';

export async function runTerminate(ctx: RunnerContext, d: DeploymentRecord): Promise<void> {
  const slot = await ctx.repo.getSlot(d.slot_id);
  if (!slot) return finish(ctx, d, 'failed', 'slot not found');
  await ctx.repo.setStatus(d.id, 'running');
  await ctx.repo.updateSlot(slot.id, { state: 'terminating' });
  if (slot.node_id && slot.state !== 'terminated') {
    try {
      await withRetry(ctx, d, 'terminate', () => ctx.nodes.terminate(slot.node_id!, slot.id, false));
    } catch (e) {
      // The node is unreachable: its copy is removed when it comes back (reconcileNode).
      await emit(ctx, d, 'cleanup_deferred', errorMessage(e));
    }
    await releaseSlotRoom(ctx, slot.node_id, slot);
  }
  await ctx.repo.updateSlot(slot.id, { state: 'terminated', state_reason: null, published_ports: [], terminated_at: new Date() });
  await finish(ctx, d, 'succeeded', `slot terminated; its data is kept for ${ctx.config.BERTH_DATA_RETENTION_DAYS} days`);
}
