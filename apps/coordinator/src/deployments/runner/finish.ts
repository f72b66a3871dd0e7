// Finishing: a deployment's final event and status, and what a healthy deploy leaves on the slot.
import type { PublishedPort } from '../deployment.types';
import { addonColumns, type DeploymentRecord, type SlotRuntime } from '../deployments.repository';
import type { NodeSlot } from '../node-gateway';
import { errorMessage, type RunnerContext } from './context';
import { emit } from './progress';
import { releaseSlotRoom } from './reserve';

/**
 * The last event of a deployment is named after its final status: succeeded, failed or
 * rolled_back (followers end their stream on it). The event is written before the status, so
 * a finished deployment always has its final event.
 */
export async function finish(ctx: RunnerContext, d: DeploymentRecord, status: 'succeeded' | 'failed' | 'rolled_back', message: string, data?: unknown) {
  await emit(ctx, d, status, message, data, true);
  await ctx.repo.setStatus(d.id, status, status === 'succeeded' ? null : message);
}

/** The deployment's slot, or null once it was terminated (the deployment is then finished as failed). */
export async function requireLiveSlot(ctx: RunnerContext, d: DeploymentRecord): Promise<SlotRuntime | null> {
  const slot = await ctx.repo.getSlot(d.slot_id);
  if (!slot || slot.state === 'terminated' || slot.state === 'terminating') {
    await finish(ctx, d, 'failed', 'the slot was terminated');
    return null;
  }
  return slot;
}

export async function deploySucceeded(ctx: RunnerContext, d: DeploymentRecord, slot: SlotRuntime, nodeId: string, result: NodeSlot): Promise<void> {
  const desired = d.desired;
  const from = desired.from_node_id;
  if (from && from !== nodeId) {
    // The old copy goes only now that the new one is healthy; a down node is cleaned when it returns.
    await ctx.nodes.terminate(from, slot.id, false).catch((e) => emit(ctx, d, 'cleanup_deferred', `old copy on node ${from}: ${errorMessage(e)}`));
    await releaseSlotRoom(ctx, from, slot);
  }
  await ctx.repo.keepReservation(d.id);
  await ctx.repo.updateSlot(slot.id, {
    state: 'running',
    state_reason: null,
    node_id: nodeId,
    current_agent_type_id: desired.agent_type_id,
    current_agent_version: null,
    desired_agent_type_id: desired.agent_type_id,
    desired_llm_provider_id: desired.llm_provider_id,
    llm_base_url: desired.llm_base_url ?? null,
    config: desired.config,
    memory_mb: desired.memory_mb,
    cpu_millis: desired.cpu_millis,
    ...addonColumns(desired.addons),
    published_ports: result.ports.map((p): PublishedPort => ({ name: p.name, container_port: p.containerPort, host_ip: p.hostIp, host_port: p.hostPort })),
  });
  if (d.kind === 'switch') await ctx.keys.forgetPrevious(slot);
  await finish(ctx, d, 'succeeded', `${desired.agent_type_id} is healthy on node ${nodeId}`, { ports: result.ports });
}
