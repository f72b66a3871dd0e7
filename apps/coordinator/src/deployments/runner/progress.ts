// Following progress: a deployment's events (stored, then published) and what the node reports on the way.
import type { DeploymentRecord } from '../deployments.repository';
import type { NodeDeployProgress, NodeSlot } from '../node-gateway';
import type { RunnerContext } from './context';

/** How often a start/restart asks the node whether the probe has decided, and for how long at most. */
const POWER_POLL_MS = 250;
const POWER_SETTLE_MAX_MS = 10 * 60_000;

export async function emit(ctx: RunnerContext, d: Pick<DeploymentRecord, 'id'>, type: string, message: string, data?: unknown, finished = false): Promise<void> {
  const event = await ctx.repo.appendEvent(d.id, type, message, data);
  ctx.bus.publish({ deploymentId: d.id, event, finished });
}

/** At most one image_pull event per this long is stored (a pull reports every chunk), besides the last. */
export const PULL_EVENT_MIN_MS = 500;

/**
 * The Deploy stream's progress, each phase stored as an event of the deployment; image_pull
 * carries the pull's progress in `data` (thinned to one event per PULL_EVENT_MIN_MS). A failure
 * the node names is not stored twice: the deployment's final `failed` event says it, with the reason.
 */
export function followDeploy(ctx: RunnerContext, d: DeploymentRecord): (p: NodeDeployProgress) => Promise<void> {
  let lastPullAt = 0;
  return async (p) => {
    if (p.failureReason) return;
    if (!p.pull) return emit(ctx, d, eventType(p.phase), p.message, p.state ? { state: p.state } : undefined);
    const { layersDone, layersTotal, bytesDone, bytesTotal } = p.pull;
    const complete = layersTotal > 0 && layersDone >= layersTotal;
    if (!complete && Date.now() - lastPullAt < PULL_EVENT_MIN_MS) return;
    lastPullAt = Date.now();
    await emit(ctx, d, eventType(p.phase), p.message, { layers_done: layersDone, layers_total: layersTotal, bytes_done: bytesDone, bytes_total: bytesTotal });
  };
}

/** Polls the node until the slot leaves 'starting' (its probe decides; bounded by the node's start period). */
export async function untilProbed(ctx: RunnerContext, nodeId: string, slotId: string, last: NodeSlot): Promise<NodeSlot> {
  const until = Date.now() + POWER_SETTLE_MAX_MS;
  while (last.state === 'starting' && Date.now() < until && !ctx.stopping()) {
    await new Promise((r) => setTimeout(r, POWER_POLL_MS));
    const now = (await ctx.nodes.listSlots(nodeId).catch(() => null))?.find((s) => s.slotId === slotId);
    if (now) last = now;
  }
  return last;
}

/**
 * Node phases as deployment event types: the customer-facing names (scheduled, image, creating,
 * starting, healthy, ...) where there is one; image_pull (with progress) and image_ready keep
 * theirs. The deployment's last event is always one of succeeded, failed or rolled_back, so the
 * node's own 'failed' phase is called not_healthy.
 */
const PHASE_EVENT: Record<string, string> = {
  container_created: 'creating',
  container_started: 'starting',
  starting: 'probing', // the node's "probing <path>" phase, after the container started
  failed: 'not_healthy',
};
export function eventType(phase: string): string {
  return PHASE_EVENT[phase] ?? phase;
}
