import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { fromProtoSlotState } from '@berth/proto';
import { FleetService } from '../nodes/fleet.service';
import type { FleetEvent } from '../nodes/fleet-events';
import { PlacementService } from '../scheduler/placement.service';
import type { SlotState } from './deployment.types';
import { DeploymentRunner } from './deployment-runner';
import { DEPLOYMENTS_CONFIG, type DeploymentsConfig } from './deployments.config';
import { DeploymentsRepository } from './deployments.repository';
import { DeploymentsService } from './deployments.service';
import { DrainRetry } from './drain-retry';
import { NODE_GATEWAY, type NodeGateway } from './node-gateway';

/**
 * What the deployment flow does when the fleet changes:
 *  - a node goes down: its running slots are rescheduled elsewhere;
 *  - a node is drained: its slots move; the draining node's heartbeats try again, with a growing
 *    wait, any slot whose move failed (it still runs there);
 *  - a node is (back) up and has adopted its containers: any copy it holds of a slot that now
 *    lives elsewhere, or was terminated, is removed, so exactly one copy of each slot survives;
 *  - a slot changes state on its node: the slot's state follows (when no deployment owns it);
 *  - heartbeats bring room: deployments waiting for capacity are tried again.
 */
@Injectable()
export class FleetReactions implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger(FleetReactions.name);
  private sub?: Subscription;
  private readonly reconciled = new Set<string>();
  private retryPending = false;
  private readonly drainRetry: DrainRetry;

  constructor(
    private readonly fleet: FleetService,
    private readonly repo: DeploymentsRepository,
    private readonly deployments: DeploymentsService,
    private readonly runner: DeploymentRunner,
    @Inject(NODE_GATEWAY) private readonly nodes: NodeGateway,
    private readonly placement: PlacementService,
    @Inject(DEPLOYMENTS_CONFIG) config: DeploymentsConfig,
  ) {
    this.drainRetry = new DrainRetry(config.BERTH_DRAIN_RETRY_MS);
  }

  onApplicationBootstrap(): void {
    this.sub = this.fleet.events.subscribe((e) => {
      this.handle(e).catch((err) => this.log.warn(`fleet event ${e.type} on node ${e.nodeId}: ${(err as Error).message}`));
    });
  }

  onModuleDestroy(): void {
    this.sub?.unsubscribe();
  }

  async handle(e: FleetEvent): Promise<void> {
    switch (e.type) {
      case 'node_down':
        this.reconciled.delete(e.nodeId);
        this.drainRetry.forget(e.nodeId);
        await this.moveAll(e.nodeId, 'reschedule');
        return;
      case 'node_draining':
        this.drainRetry.drained(e.nodeId);
        await this.moveAll(e.nodeId, 'move');
        return;
      case 'node_up':
        this.reconciled.delete(e.nodeId);
        this.drainRetry.forget(e.nodeId);
        return;
      case 'heartbeat':
        if (e.synced && !this.reconciled.has(e.nodeId)) {
          this.reconciled.add(e.nodeId);
          await this.reconcileNode(e.nodeId);
        }
        if (e.synced && this.placement.getNode(e.nodeId)?.status === 'draining') await this.retryDrain(e.nodeId);
        this.kickWaiting();
        return;
      case 'slot_state':
        return this.followSlotState(e.nodeId, e.slot.slotId, e.slot.deploymentId, fromProtoSlotState(e.slot.state), e.slot.message);
    }
  }

  private kickWaiting(): void {
    if (this.retryPending) return;
    this.retryPending = true;
    setTimeout(() => {
      this.retryPending = false;
      void this.runner.retryWaiting();
    }, 200).unref();
  }

  /** Relocates every slot the node still holds that nothing is changing now; returns how many. */
  private async moveAll(nodeId: string, kind: 'reschedule' | 'move'): Promise<number> {
    const slots = await this.repo.slotIdsOnNode(nodeId, ['running', 'unhealthy', 'deploying']);
    let started = 0;
    for (const slotId of slots) if (await this.deployments.relocate(slotId, nodeId, kind)) started++;
    if (started) this.log.log(`node ${nodeId}: ${kind} of ${started} slot(s)`);
    return started;
  }

  /** A draining node still holds slots (their move failed): try them again when it is time. */
  private async retryDrain(nodeId: string): Promise<void> {
    if (!this.drainRetry.due(nodeId)) return;
    this.drainRetry.tried(nodeId, await this.moveAll(nodeId, 'move'));
  }

  /** Removes the node's copies of slots that live elsewhere now or were terminated (data volumes stay). */
  async reconcileNode(nodeId: string): Promise<string[]> {
    const removed: string[] = [];
    for (const s of await this.nodes.listSlots(nodeId)) {
      if (s.state === 'terminated') continue;
      const slot = await this.repo.getSlot(s.slotId);
      const active = slot ? await this.repo.activeForSlot(slot.id) : null;
      if (active && active.node_id === nodeId) continue; // being deployed here right now
      if (!slot || slot.state === 'terminated' || (slot.node_id !== null && slot.node_id !== nodeId)) {
        await this.nodes.terminate(nodeId, s.slotId, false);
        removed.push(s.slotId);
      }
    }
    if (removed.length) this.log.log(`node ${nodeId}: removed ${removed.length} stale slot copy(ies)`);
    return removed;
  }

  private async followSlotState(nodeId: string, slotId: string, _deploymentId: string, state: string | undefined, message: string): Promise<void> {
    const slot = await this.repo.getSlot(slotId);
    if (!slot || slot.node_id !== nodeId || !state) return;
    if (await this.repo.activeForSlot(slotId)) return; // the deployment owns the slot's state meanwhile
    const next: SlotState | null =
      state === 'healthy' ? 'running' : state === 'unhealthy' ? 'unhealthy' : state === 'stopped' ? 'stopped' : state === 'failed' ? 'failed' : null;
    if (next && (next !== slot.state || (message || null) !== slot.state_reason)) {
      await this.repo.updateSlot(slotId, { state: next, state_reason: next === 'running' ? null : message || null });
    }
  }
}
