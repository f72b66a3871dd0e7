import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { DomainError, MiB, UnavailableError, type SlotDeploySpec } from '@berth/domain';
import { NodesRepository } from '../nodes/nodes.repository';
import { PlacementService } from '../scheduler/placement.service';
import { DeploymentBus } from './deployment-bus';
import { isFinished, type PublishedPort, type SlotState } from './deployment.types';
import { DeploymentsRepository, type DeploymentRecord, type SlotRuntime } from './deployments.repository';
import { DEPLOYMENTS_CONFIG, type DeploymentsConfig } from './deployments.config';
import { NODE_GATEWAY, type NodeGateway, type NodeSlot } from './node-gateway';
import { SlotSpecBuilder } from './slot-spec.builder';
import { SlotKeys } from './slot-keys';

const DEPLOY_KINDS = new Set(['deploy', 'switch', 'rollback', 'move', 'reschedule']);
/** How often a start/restart asks the node whether the probe has decided, and for how long at most. */
const POWER_POLL_MS = 250;
const POWER_SETTLE_MAX_MS = 10 * 60_000;

/**
 * Drives deployments to their end, one at a time per slot (hand-written: this is the product's
 * main job). Every step is persisted before the next, and every node call carries the
 * deployment id as idempotency key, so a coordinator restart simply runs unfinished
 * deployments again (resume()) and a retried call never makes a second container.
 *
 *   deploy/switch/rollback/move/reschedule: render -> place+reserve -> node Deploy (stream) -> healthy | failed
 *   a failed switch -> a rollback deployment to the previous agent
 *   resize: reserve the delta on the node -> UpdateResources, or a move when the node has no room
 *   stop/start/restart/terminate: one node call
 */
@Injectable()
export class DeploymentRunner implements OnApplicationShutdown {
  private readonly log = new Logger(DeploymentRunner.name);
  private readonly queues = new Map<string, Promise<void>>();
  private retryTimer?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly repo: DeploymentsRepository,
    /** Frees a slot's room on a node (terminate, the old node after a move). */
    private readonly nodeRoom: NodesRepository,
    private readonly builder: SlotSpecBuilder,
    private readonly keys: SlotKeys,
    @Inject(NODE_GATEWAY) private readonly nodes: NodeGateway,
    private readonly placement: PlacementService,
    private readonly bus: DeploymentBus,
    @Inject(DEPLOYMENTS_CONFIG) private readonly config: DeploymentsConfig,
  ) {}

  /** Runs every unfinished deployment again (after a restart) and starts the retry timer for waiting ones. */
  async resume(): Promise<number> {
    const open = await this.repo.listUnfinished();
    for (const d of open) this.submit(d);
    this.retryTimer = setInterval(() => void this.retryWaiting(), this.config.BERTH_PLACEMENT_RETRY_MS);
    this.retryTimer.unref();
    if (open.length) this.log.log(`resuming ${open.length} unfinished deployment(s)`);
    return open.length;
  }

  onApplicationShutdown(): void {
    this.stopping = true;
    if (this.retryTimer) clearInterval(this.retryTimer);
  }

  /** Waits for everything queued so far (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.queues.size) await Promise.allSettled([...this.queues.values()]);
  }

  /** Queues a deployment behind any other work on the same slot. */
  submit(d: Pick<DeploymentRecord, 'id' | 'slot_id'>): Promise<void> {
    const prev = this.queues.get(d.slot_id) ?? Promise.resolve();
    const next = prev.then(() => this.run(d.id));
    this.queues.set(d.slot_id, next);
    void next.finally(() => {
      if (this.queues.get(d.slot_id) === next) this.queues.delete(d.slot_id);
    });
    return next;
  }

  async retryWaiting(): Promise<void> {
    if (this.stopping) return;
    for (const d of await this.repo.listUnfinished()) {
      if (d.status === 'waiting_capacity' && !this.queues.has(d.slot_id)) this.submit(d);
    }
  }

  private async run(id: string): Promise<void> {
    const d = await this.repo.get(id);
    if (!d || isFinished(d.status) || this.stopping) return;
    try {
      if (DEPLOY_KINDS.has(d.kind)) await this.runDeploy(d);
      else if (d.kind === 'resize') await this.runResize(d);
      else if (d.kind === 'terminate') await this.runTerminate(d);
      else await this.runPower(d, d.kind as 'stop' | 'start' | 'restart');
    } catch (e) {
      await this.fail(d, e);
    }
  }

  // ---------------------------------------------------------------- events

  private async emit(d: Pick<DeploymentRecord, 'id'>, type: string, message: string, data?: unknown, finished = false): Promise<void> {
    const event = await this.repo.appendEvent(d.id, type, message, data);
    this.bus.publish({ deploymentId: d.id, event, finished });
  }

  /**
   * The last event of a deployment is named after its final status: succeeded, failed or
   * rolled_back (followers end their stream on it). The event is written before the status, so
   * a finished deployment always has its final event.
   */
  private async finish(d: DeploymentRecord, status: 'succeeded' | 'failed' | 'rolled_back', message: string, data?: unknown) {
    await this.emit(d, status, message, data, true);
    await this.repo.setStatus(d.id, status, status === 'succeeded' ? null : message);
  }

  /** Ends a deployment that is only waiting for room (terminate wins over it). */
  async supersede(d: DeploymentRecord, reason: string): Promise<void> {
    await this.finish(d, 'failed', reason);
  }

  /** Node calls are retried with backoff while the node is unavailable; the deployment id makes that safe. */
  private async withRetry<T>(d: DeploymentRecord, what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (e) {
        if (!(e instanceof UnavailableError) || attempt >= this.config.BERTH_NODE_CALL_ATTEMPTS || this.stopping) throw e;
        const wait = Math.min(this.config.BERTH_NODE_CALL_BACKOFF_MS * 2 ** (attempt - 1), 30_000);
        await this.repo.bumpAttempt(d.id);
        await this.emit(d, 'retry', `${what}: ${e.message}; trying again in ${Math.round(wait / 100) / 10}s (attempt ${attempt + 1})`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }

  // ---------------------------------------------------------------- deploy-like kinds

  private async runDeploy(d: DeploymentRecord): Promise<void> {
    const slot = await this.requireLiveSlot(d);
    if (!slot) return;
    const desired = d.desired;
    // Render first: a template or policy problem must not take room on a node.
    const spec = await this.builder.spec(slot, desired, d.id);

    let nodeId = d.node_id;
    if (!nodeId) {
      const inPlace = (d.kind === 'switch' || d.kind === 'rollback') && slot.node_id && this.nodeUsable(slot.node_id);
      if (inPlace) {
        nodeId = slot.node_id!;
        await this.repo.assignWithoutReservation(d.id, nodeId);
      } else {
        const placed = await this.placeAndReserve(d, slot, spec);
        if ('reason' in placed) return this.waitForRoom(d, slot, placed.reason);
        nodeId = placed.nodeId;
      }
      await this.emit(d, 'scheduled', `placed on node ${nodeId}`, { node_id: nodeId });
    }

    await this.repo.setStatus(d.id, 'running');
    if (d.kind === 'deploy' || d.kind === 'reschedule' || slot.state === 'pending') {
      await this.repo.updateSlot(slot.id, { state: 'deploying', state_reason: null });
    }
    await this.emit(d, 'image', `starting ${spec.image}`, { image: spec.image, agent_type_id: desired.agent_type_id });

    let result: NodeSlot;
    try {
      result = await this.withRetry(d, 'deploy', () =>
        this.nodes.deploy(nodeId!, spec, true, (p) => this.emit(d, eventType(p.phase), p.message, p.state ? { state: p.state } : undefined)),
      );
    } catch (e) {
      const movable = d.kind !== 'switch' && d.kind !== 'rollback'; // those run in place, on the slot's data
      if (e instanceof UnavailableError && movable) return this.placeElsewhere(d, slot, nodeId, errorMessage(e));
      return this.deployFailed(d, slot, nodeId, errorMessage(e));
    }
    if (result.state !== 'healthy') return this.deployFailed(d, slot, nodeId, result.message || `ended ${result.state}`);
    await this.deploySucceeded(d, slot, nodeId, result);
  }

  /** The node stopped answering mid-deploy: give its room back and place the slot on another node. */
  private async placeElsewhere(d: DeploymentRecord, slot: SlotRuntime, nodeId: string, reason: string): Promise<void> {
    await this.emit(d, 'rescheduling', `node ${nodeId} is unreachable (${reason}); placing the slot on another node`);
    // Its copy, if one was made, is removed when the node comes back (FleetReactions.reconcileNode).
    await this.nodes.terminate(nodeId, slot.id, false).catch(() => undefined);
    const fresh = (await this.repo.get(d.id)) ?? d;
    await this.repo.releaseDeploymentReservation(d.id);
    this.placement.release(nodeId, { memoryBytes: fresh.reserved_memory_mb * MiB, nanoCpus: fresh.reserved_cpu_millis * 1_000_000, ports: 0 });
    await this.repo.retarget(d.id, { ...d.desired, exclude_nodes: [...(d.desired.exclude_nodes ?? []), nodeId] });
    return this.runDeploy((await this.repo.get(d.id))!);
  }

  private nodeUsable(nodeId: string): boolean {
    const n = this.placement.getNode(nodeId);
    return !!n && n.status === 'up';
  }

  private async placeAndReserve(d: DeploymentRecord, slot: SlotRuntime, spec: SlotDeploySpec): Promise<{ nodeId: string } | { reason: string }> {
    const { memory_mb, cpu_millis } = d.desired;
    const exclude = new Set(d.desired.exclude_nodes ?? []);
    const demand = { memoryBytes: memory_mb * MiB, nanoCpus: cpu_millis * 1_000_000, ports: spec.ports.filter((p) => p.publish).length };
    for (let tries = 0; tries < 8; tries++) {
      const r = this.placement.placeAndReserve(
        { slotId: slot.id, ...demand, affinity: { preferNodeId: d.desired.from_node_id ? undefined : (slot.node_id ?? undefined) } },
        { exclude },
      );
      if (!r.ok) return { reason: r.message };
      if (await this.repo.reserveAndAssign(d.id, r.nodeId, memory_mb, cpu_millis)) {
        this.placement.confirm(r.nodeId, demand);
        return { nodeId: r.nodeId };
      }
      // The in-memory view was stale (another coordinator, or a heartbeat not seen yet): try the next node.
      this.placement.abandon(r.nodeId, demand);
      exclude.add(r.nodeId);
    }
    return { reason: 'every candidate node filled up while placing; will try again' };
  }

  private async waitForRoom(d: DeploymentRecord, slot: SlotRuntime, reason: string): Promise<void> {
    const first = d.status !== 'waiting_capacity';
    await this.repo.setStatus(d.id, 'waiting_capacity');
    if (d.kind === 'deploy' || slot.state === 'pending') {
      await this.repo.updateSlot(slot.id, { state: 'pending', state_reason: `waiting for room: ${reason}` });
    }
    if (first || slot.state_reason !== `waiting for room: ${reason}`) await this.emit(d, 'waiting_capacity', reason);
  }

  private async deploySucceeded(d: DeploymentRecord, slot: SlotRuntime, nodeId: string, result: NodeSlot): Promise<void> {
    const desired = d.desired;
    const from = desired.from_node_id;
    if (from && from !== nodeId) {
      // The old copy goes only now that the new one is healthy; a down node is cleaned when it returns.
      await this.nodes.terminate(from, slot.id, false).catch((e) => this.emit(d, 'cleanup_deferred', `old copy on node ${from}: ${errorMessage(e)}`));
      await this.nodeRoom.release(from, slot.memory_mb, slot.cpu_millis);
      this.placement.release(from, { memoryBytes: slot.memory_mb * MiB, nanoCpus: slot.cpu_millis * 1_000_000, ports: 0 });
    }
    await this.repo.keepReservation(d.id);
    await this.repo.updateSlot(slot.id, {
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
      published_ports: result.ports.map((p): PublishedPort => ({ name: p.name, container_port: p.containerPort, host_ip: p.hostIp, host_port: p.hostPort })),
    });
    if (d.kind === 'switch') await this.keys.forgetPrevious(slot);
    await this.finish(d, 'succeeded', `${desired.agent_type_id} is healthy on node ${nodeId}`, { ports: result.ports });
  }

  private async deployFailed(d: DeploymentRecord, slot: SlotRuntime, nodeId: string, reason: string): Promise<void> {
    const previous = d.desired.previous;
    if (d.kind === 'switch' && previous) {
      await this.keys.restorePrevious(slot);
      const rollback = await this.repo.create(slot.id, 'rollback', {
        ...previous,
        memory_mb: d.desired.memory_mb,
        cpu_millis: d.desired.cpu_millis,
      });
      await this.finish(d, 'rolled_back', `${d.desired.agent_type_id} did not become healthy (${reason}); rolling back to ${previous.agent_type_id}`, {
        rollback_deployment_id: rollback.id,
      });
      // Queued behind this one on the same slot.
      void this.submit(rollback);
      return;
    }
    const fresh = (await this.repo.get(d.id)) ?? d; // the reservation may be newer than `d`
    const isNewPlacement = fresh.reserved_memory_mb > 0 || fresh.reserved_cpu_millis > 0;
    if (isNewPlacement) {
      // Nothing leaks: the container and ports on the node, the room in the database and in memory.
      await this.nodes.terminate(nodeId, slot.id, false).catch(() => undefined);
      await this.repo.releaseDeploymentReservation(d.id);
      this.placement.release(nodeId, { memoryBytes: fresh.reserved_memory_mb * MiB, nanoCpus: fresh.reserved_cpu_millis * 1_000_000, ports: 0 });
    }
    const keepsOldCopy = (d.kind === 'move' || d.kind === 'reschedule') && slot.node_id && slot.node_id !== nodeId;
    if (!keepsOldCopy) await this.repo.updateSlot(slot.id, { state: 'failed', state_reason: reason, ...(isNewPlacement ? { published_ports: [] } : {}) });
    await this.finish(d, 'failed', reason);
  }

  // ---------------------------------------------------------------- other kinds

  private async runResize(d: DeploymentRecord): Promise<void> {
    const slot = await this.requireLiveSlot(d);
    if (!slot) return;
    const { memory_mb, cpu_millis } = d.desired;
    if (!slot.node_id || slot.state === 'pending' || slot.state === 'failed') {
      await this.repo.updateSlot(slot.id, { memory_mb, cpu_millis });
      return this.finish(d, 'succeeded', 'new limits recorded; they apply at the next deploy');
    }
    const dm = memory_mb - slot.memory_mb;
    const dc = cpu_millis - slot.cpu_millis;
    if (!(await this.repo.resizeNodeRoom(slot.node_id, dm, dc))) {
      const move = await this.repo.create(slot.id, 'move', {
        ...d.desired,
        exclude_nodes: [slot.node_id],
        from_node_id: slot.node_id,
      });
      await this.finish(d, 'succeeded', `node ${slot.node_id} has no room for the new limits; moving the slot`, { move_deployment_id: move.id });
      void this.submit(move);
      return;
    }
    await this.repo.setStatus(d.id, 'running');
    try {
      await this.withRetry(d, 'update resources', () =>
        this.nodes.updateResources(slot.node_id!, slot.id, { memoryBytes: memory_mb * MiB, nanoCpus: cpu_millis * 1_000_000, pidsLimit: 512 }),
      );
    } catch (e) {
      await this.repo.resizeNodeRoom(slot.node_id, -dm, -dc);
      throw e;
    }
    await this.repo.updateSlot(slot.id, { memory_mb, cpu_millis });
    const delta = { memoryBytes: Math.abs(dm) * MiB, nanoCpus: Math.abs(dc) * 1_000_000, ports: 0 };
    if (dm >= 0 && dc >= 0) this.placement.reserve(slot.node_id, delta);
    else if (dm <= 0 && dc <= 0) this.placement.release(slot.node_id, delta);
    await this.finish(d, 'succeeded', `limits now ${memory_mb} MiB / ${cpu_millis / 1000} CPU`);
  }

  private async runPower(d: DeploymentRecord, action: 'stop' | 'start' | 'restart'): Promise<void> {
    const slot = await this.requireLiveSlot(d);
    if (!slot) return;
    if (!slot.node_id) return this.finish(d, 'failed', `the slot is not placed on a node yet (${slot.state})`);
    await this.repo.setStatus(d.id, 'running');
    let r = await this.withRetry(d, action, () => this.nodes.power(slot.node_id!, slot.id, action));
    if (action !== 'stop' && r.state === 'starting') {
      // The node answers start/restart at once and probes afterwards. While this deployment runs,
      // the slot's state changes from the node are not followed (fleet-reactions), so the
      // deployment waits for the probe's verdict itself; otherwise a healthy report that arrives
      // before it finishes is dropped and the slot stays 'deploying'.
      await this.emit(d, 'starting', r.message || `${action}: waiting for health`);
      r = await this.untilProbed(slot.node_id, slot.id, r);
      if (r.state === 'healthy') await this.emit(d, 'healthy', r.message || 'healthy');
    }
    const state: SlotState =
      action === 'stop' ? 'stopped' : r.state === 'healthy' ? 'running' : r.state === 'stopped' ? 'stopped' : r.state === 'unhealthy' ? 'unhealthy' : r.state === 'failed' ? 'failed' : 'deploying';
    await this.repo.updateSlot(slot.id, { state, state_reason: state === 'running' || state === 'stopped' ? null : r.message || null });
    await this.finish(d, 'succeeded', `${action}: ${r.state}`);
  }

  /** Polls the node until the slot leaves 'starting' (its probe decides; bounded by the node's start period). */
  private async untilProbed(nodeId: string, slotId: string, last: NodeSlot): Promise<NodeSlot> {
    const until = Date.now() + POWER_SETTLE_MAX_MS;
    while (last.state === 'starting' && Date.now() < until && !this.stopping) {
      await new Promise((r) => setTimeout(r, POWER_POLL_MS));
      const now = (await this.nodes.listSlots(nodeId).catch(() => null))?.find((s) => s.slotId === slotId);
      if (now) last = now;
    }
    return last;
  }

  private async runTerminate(d: DeploymentRecord): Promise<void> {
    const slot = await this.repo.getSlot(d.slot_id);
    if (!slot) return this.finish(d, 'failed', 'slot not found');
    await this.repo.setStatus(d.id, 'running');
    await this.repo.updateSlot(slot.id, { state: 'terminating' });
    if (slot.node_id && slot.state !== 'terminated') {
      try {
        await this.withRetry(d, 'terminate', () => this.nodes.terminate(slot.node_id!, slot.id, false));
      } catch (e) {
        // The node is unreachable: its copy is removed when it comes back (reconcileNode).
        await this.emit(d, 'cleanup_deferred', errorMessage(e));
      }
      await this.nodeRoom.release(slot.node_id, slot.memory_mb, slot.cpu_millis);
      this.placement.release(slot.node_id, { memoryBytes: slot.memory_mb * MiB, nanoCpus: slot.cpu_millis * 1_000_000, ports: 0 });
    }
    await this.repo.updateSlot(slot.id, { state: 'terminated', state_reason: null, published_ports: [], terminated_at: new Date() });
    await this.finish(d, 'succeeded', `slot terminated; its data is kept for ${this.config.BERTH_DATA_RETENTION_DAYS} days`);
  }

  private async requireLiveSlot(d: DeploymentRecord): Promise<SlotRuntime | null> {
    const slot = await this.repo.getSlot(d.slot_id);
    if (!slot || slot.state === 'terminated' || slot.state === 'terminating') {
      await this.finish(d, 'failed', 'the slot was terminated');
      return null;
    }
    return slot;
  }

  private async fail(d: DeploymentRecord, e: unknown): Promise<void> {
    const message = errorMessage(e);
    if (!(e instanceof DomainError)) this.log.error(`deployment ${d.id} failed: ${message}`, (e as Error)?.stack);
    try {
      const fresh = await this.repo.get(d.id);
      if (!fresh || isFinished(fresh.status)) return;
      const slot = await this.repo.getSlot(d.slot_id);
      if (slot && DEPLOY_KINDS.has(d.kind) && fresh.node_id) return await this.deployFailed(fresh, slot, fresh.node_id, message);
      if (fresh.reserved_memory_mb || fresh.reserved_cpu_millis) await this.repo.releaseDeploymentReservation(d.id);
      if (slot && d.kind === 'deploy') await this.repo.updateSlot(slot.id, { state: 'failed', state_reason: message });
      // A switch that failed before reaching a node: the old agent still runs, with its own keys.
      if (slot && d.kind === 'switch') await this.keys.restorePrevious(slot);
      await this.finish(fresh, 'failed', message);
    } catch (inner) {
      this.log.error(`deployment ${d.id}: could not record its failure: ${errorMessage(inner)}`);
    }
  }
}

/**
 * Node phases as deployment event types: the customer-facing names (scheduled, image, creating,
 * starting, healthy, ...) where there is one. The deployment's last event is always one of
 * succeeded, failed or rolled_back, so the node's own 'failed' phase is called not_healthy.
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

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

