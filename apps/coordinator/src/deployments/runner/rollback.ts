// Rolling back: a failed deployment gives back what it took (container, ports, room); a failed switch goes back to the previous agent.
import type { Logger } from '@nestjs/common';
import { DomainError } from '@berth/domain';
import { isFinished } from '../deployment.types';
import type { DeploymentRecord, SlotRuntime } from '../deployments.repository';
import { DEPLOY_KINDS, errorMessage, type RunnerContext } from './context';
import { finish } from './finish';
import { releaseReservation } from './reserve';

/** `data` goes into the final event (e.g. `{reason: 'registry_auth'}` when the node named why). */
export async function deployFailed(ctx: RunnerContext, d: DeploymentRecord, slot: SlotRuntime, nodeId: string, reason: string, data?: Record<string, unknown>): Promise<void> {
  const previous = d.desired.previous;
  if (d.kind === 'switch' && previous) {
    await ctx.keys.restorePrevious(slot);
    const rollback = await ctx.repo.create(slot.id, 'rollback', {
      ...previous,
      memory_mb: d.desired.memory_mb,
      cpu_millis: d.desired.cpu_millis,
    });
    await finish(ctx, d, 'rolled_back', `${d.desired.agent_type_id} did not become healthy (${reason}); rolling back to ${previous.agent_type_id}`, {
      rollback_deployment_id: rollback.id,
      ...data,
    });
    // Queued behind this one on the same slot.
    void ctx.submit(rollback);
    return;
  }
  const fresh = (await ctx.repo.get(d.id)) ?? d; // the reservation may be newer than `d`
  const isNewPlacement = fresh.reserved_memory_mb > 0 || fresh.reserved_cpu_millis > 0;
  if (isNewPlacement) {
    // Nothing leaks: the container and ports on the node, the room in the database and in memory.
    await ctx.nodes.terminate(nodeId, slot.id, false).catch(() => undefined);
    await releaseReservation(ctx, fresh, nodeId);
  }
  const keepsOldCopy = (d.kind === 'move' || d.kind === 'reschedule') && slot.node_id && slot.node_id !== nodeId;
  if (!keepsOldCopy) await ctx.repo.updateSlot(slot.id, { state: 'failed', state_reason: reason, ...(isNewPlacement ? { published_ports: [] } : {}) });
  await finish(ctx, d, 'failed', reason, data);
}

/** Any error a run threw: the deployment ends failed, giving back what it took (never throws itself). */
export async function fail(ctx: RunnerContext, log: Logger, d: DeploymentRecord, e: unknown): Promise<void> {
  const message = errorMessage(e);
  if (!(e instanceof DomainError)) log.error(`deployment ${d.id} failed: ${message}`, (e as Error)?.stack);
  try {
    const fresh = await ctx.repo.get(d.id);
    if (!fresh || isFinished(fresh.status)) return;
    const slot = await ctx.repo.getSlot(d.slot_id);
    if (slot && DEPLOY_KINDS.has(d.kind) && fresh.node_id) return await deployFailed(ctx, fresh, slot, fresh.node_id, message);
    if (fresh.reserved_memory_mb || fresh.reserved_cpu_millis) await ctx.repo.releaseDeploymentReservation(d.id);
    if (slot && d.kind === 'deploy') await ctx.repo.updateSlot(slot.id, { state: 'failed', state_reason: message });
    // A switch that failed before reaching a node: the old agent still runs, with its own keys.
    if (slot && d.kind === 'switch') await ctx.keys.restorePrevious(slot);
    await finish(ctx, fresh, 'failed', message);
  } catch (inner) {
    log.error(`deployment ${d.id}: could not record its failure: ${errorMessage(inner)}`);
  }
}
