import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { UnavailableError } from '@berth/domain';
import { CustomImagesService } from '../custom-images/custom-images.service';
import { ImageDigestsService } from '../images/image-digests.service';
import { RegistryCredentialsService } from '../images/registry-credentials.service';
import { NodesRepository } from '../nodes/nodes.repository';
import { PlacementService } from '../scheduler/placement.service';
import { DeploymentBus } from './deployment-bus';
import { isFinished } from './deployment.types';
import { DeploymentsRepository, type DeploymentRecord } from './deployments.repository';
import { DEPLOYMENTS_CONFIG, type DeploymentsConfig } from './deployments.config';
import { NODE_GATEWAY, type NodeGateway, type NodeSlot } from './node-gateway';
import { SlotSpecBuilder } from './slot-spec.builder';
import { SlotKeys } from './slot-keys';
import { DEPLOY_KINDS, errorMessage, type RunnerContext } from './runner/context';
import { deploySucceeded, finish, requireLiveSlot } from './runner/finish';
import { checkCustomerImage, recordImage } from './runner/images';
import { beginDeploy, deployOnNode } from './runner/node-call';
import { runPower } from './runner/power';
import { runResize } from './runner/resize';
import { deployFailed, fail } from './runner/rollback';
import { placeElsewhere, schedule } from './runner/schedule';
import { runTerminate } from './runner/terminate';

export { eventType } from './runner/progress';

/**
 * Drives deployments to their end, one at a time per slot (hand-written: this is the product's
 * main job). Every step is persisted before the next, and every node call carries the
 * deployment id as idempotency key, so a coordinator restart simply runs unfinished
 * deployments again (resume()) and a retried call never makes a second container.
 *
 *   deploy/switch/rollback/move/reschedule: render -> place+reserve -> node Deploy (stream; the node pulls
 *     the image with the registry's stored credentials, or a customer's image with the slot's own,
 *     size-limited) -> digest recorded -> healthy | failed
 *   a failed switch -> a rollback deployment to the previous agent
 *   resize: reserve the delta on the node -> UpdateResources, or a move when the node has no room
 *   stop/start/restart/terminate: one node call
 *
 * This class queues and sequences; each step lives in runner/: schedule.ts (choose a node, wait
 * for room), reserve.ts (the atomic reservation and its release), node-call.ts (retried node
 * calls, the Deploy stream), progress.ts (events, node phases, the probe's verdict), images.ts
 * (registry credentials for the pull, the digest a deployment ran and a tag's drift), finish.ts
 * (final event and status, a healthy deploy), rollback.ts (a failed deployment), and one file
 * per other kind (resize.ts, power.ts, terminate.ts).
 */
@Injectable()
export class DeploymentRunner implements OnApplicationShutdown {
  private readonly log = new Logger(DeploymentRunner.name);
  private readonly queues = new Map<string, Promise<void>>();
  private readonly ctx: RunnerContext;
  private retryTimer?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    private readonly repo: DeploymentsRepository,
    /** Frees a slot's room on a node (terminate, the old node after a move). */
    nodeRoom: NodesRepository,
    private readonly builder: SlotSpecBuilder,
    keys: SlotKeys,
    @Inject(NODE_GATEWAY) nodes: NodeGateway,
    placement: PlacementService,
    bus: DeploymentBus,
    @Inject(DEPLOYMENTS_CONFIG) private readonly config: DeploymentsConfig,
    credentials: RegistryCredentialsService,
    digests: ImageDigestsService,
    customImages: CustomImagesService,
  ) {
    this.ctx = { repo, nodeRoom, builder, keys, nodes, placement, bus, config, credentials, digests, customImages, stopping: () => this.stopping, submit: (d) => this.submit(d) };
  }

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

  /** Ends a deployment that is only waiting for room (terminate wins over it). */
  async supersede(d: DeploymentRecord, reason: string): Promise<void> {
    await finish(this.ctx, d, 'failed', reason);
  }

  private async run(id: string): Promise<void> {
    const d = await this.repo.get(id);
    if (!d || isFinished(d.status) || this.stopping) return;
    try {
      if (DEPLOY_KINDS.has(d.kind)) await this.runDeploy(d);
      else if (d.kind === 'resize') await runResize(this.ctx, d);
      else if (d.kind === 'terminate') await runTerminate(this.ctx, d);
      else await runPower(this.ctx, d, d.kind as 'stop' | 'start' | 'restart');
    } catch (e) {
      await fail(this.ctx, this.log, d, e);
    }
  }

  /** Deploy-like kinds: render -> schedule (place+reserve) -> node Deploy (stream) -> succeeded | rolled back. */
  private async runDeploy(d: DeploymentRecord): Promise<void> {
    const slot = await requireLiveSlot(this.ctx, d);
    if (!slot) return;
    // Render first: a template or policy problem (or a customer's image from a registry no longer
    // allowed) must not take room on a node.
    const spec = await this.builder.spec(slot, d.desired, d.id);
    await checkCustomerImage(this.ctx, d, spec);

    const nodeId = await schedule(this.ctx, d, slot, spec);
    if (!nodeId) return; // waiting for room

    await beginDeploy(this.ctx, d, slot, spec);
    let result: NodeSlot;
    try {
      result = await deployOnNode(this.ctx, d, slot, nodeId, spec);
    } catch (e) {
      const movable = d.kind !== 'switch' && d.kind !== 'rollback'; // those run in place, on the slot's data
      if (e instanceof UnavailableError && movable) return this.runDeploy(await placeElsewhere(this.ctx, d, slot, nodeId, errorMessage(e)));
      return deployFailed(this.ctx, d, slot, nodeId, errorMessage(e));
    }
    await recordImage(this.ctx, d, spec, result);
    if (result.failure) return deployFailed(this.ctx, d, slot, nodeId, result.failure.message, { reason: result.failure.reason });
    if (result.state !== 'healthy') return deployFailed(this.ctx, d, slot, nodeId, result.message || `ended ${result.state}`);
    await deploySucceeded(this.ctx, d, slot, nodeId, result);
  }
}
