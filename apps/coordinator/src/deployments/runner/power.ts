// Stop, start and restart: one lifecycle command on the slot's node, and for a start the probe's verdict.
import type { SlotState } from '../deployment.types';
import type { DeploymentRecord } from '../deployments.repository';
import type { RunnerContext } from './context';
import { finish, requireLiveSlot } from './finish';
import { withRetry } from './node-call';
import { emit, untilProbed } from './progress';

export async function runPower(ctx: RunnerContext, d: DeploymentRecord, action: 'stop' | 'start' | 'restart'): Promise<void> {
  const slot = await requireLiveSlot(ctx, d);
  if (!slot) return;
  if (!slot.node_id) return finish(ctx, d, 'failed', `the slot is not placed on a node yet (${slot.state})`);
  await ctx.repo.setStatus(d.id, 'running');
  let r = await withRetry(ctx, d, action, () => ctx.nodes.power(slot.node_id!, slot.id, action));
  if (action !== 'stop' && r.state === 'starting') {
    // The node answers start/restart at once and probes afterwards. While this deployment runs,
    // the slot's state changes from the node are not followed (fleet-reactions), so the
    // deployment waits for the probe's verdict itself; otherwise a healthy report that arrives
    // before it finishes is dropped and the slot stays 'deploying'.
    await emit(ctx, d, 'starting', r.message || `${action}: waiting for health`);
    r = await untilProbed(ctx, slot.node_id, slot.id, r);
    if (r.state === 'healthy') await emit(ctx, d, 'healthy', r.message || 'healthy');
  }
  const state: SlotState =
    action === 'stop' ? 'stopped' : r.state === 'healthy' ? 'running' : r.state === 'stopped' ? 'stopped' : r.state === 'unhealthy' ? 'unhealthy' : r.state === 'failed' ? 'failed' : 'deploying';
  await ctx.repo.updateSlot(slot.id, { state, state_reason: state === 'running' || state === 'stopped' ? null : r.message || null });
  await finish(ctx, d, 'succeeded', `${action}: ${r.state}`);
}
