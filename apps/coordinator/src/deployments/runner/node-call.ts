// Calling a node: retries while it is unavailable, and the Deploy stream of deploy-like kinds.
import { UnavailableError, type SlotDeploySpec } from '@berth/domain';
import type { DeploymentRecord, SlotRuntime } from '../deployments.repository';
import type { NodeSlot } from '../node-gateway';
import type { RunnerContext } from './context';
import { imagePullFor } from './images';
import { emit, followDeploy } from './progress';

/** Node calls are retried with backoff while the node is unavailable; the deployment id makes that safe. */
export async function withRetry<T>(ctx: RunnerContext, d: DeploymentRecord, what: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof UnavailableError) || attempt >= ctx.config.BERTH_NODE_CALL_ATTEMPTS || ctx.stopping()) throw e;
      const wait = Math.min(ctx.config.BERTH_NODE_CALL_BACKOFF_MS * 2 ** (attempt - 1), 30_000);
      await ctx.repo.bumpAttempt(d.id);
      await emit(ctx, d, 'retry', `${what}: ${e.message}; trying again in ${Math.round(wait / 100) / 10}s (attempt ${attempt + 1})`);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** The deployment runs from here on: the slot shows it is deploying, and the image is announced. */
export async function beginDeploy(ctx: RunnerContext, d: DeploymentRecord, slot: SlotRuntime, spec: SlotDeploySpec): Promise<void> {
  await ctx.repo.setStatus(d.id, 'running');
  if (d.kind === 'deploy' || d.kind === 'reschedule' || slot.state === 'pending') {
    await ctx.repo.updateSlot(slot.id, { state: 'deploying', state_reason: null });
  }
  await emit(ctx, d, 'image', `starting ${spec.image}`, { image: spec.image, agent_type_id: d.desired.agent_type_id });
}

/** The node's Deploy, followed until healthy or failed (replacing the slot's container in place), with how to pull its image. */
export async function deployOnNode(ctx: RunnerContext, d: DeploymentRecord, slot: SlotRuntime, nodeId: string, spec: SlotDeploySpec): Promise<NodeSlot> {
  const pull = await imagePullFor(ctx, d, slot, spec);
  return withRetry(ctx, d, 'deploy', () => ctx.nodes.deploy(nodeId, spec, true, followDeploy(ctx, d), pull.auth, pull.policy));
}
