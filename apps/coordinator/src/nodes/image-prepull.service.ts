import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Subscription } from 'rxjs';
import { defaultTemplatesDir } from '@berth/catalog';
import { CONFIG, type CoordinatorConfig } from '../config/config.schema';
import { takesCustomerImage } from '../custom-images/customer-image-agents';
import { RegistryCredentialsService, type RegistryAuth } from '../images/registry-credentials.service';
import { RegistryService, type AgentTypeChange } from '../registry/registry.service';
import type { AgentTypeRecord } from '../registry/registry.types';
import { PlacementService } from '../scheduler';
import { FleetService } from './fleet.service';
import type { FleetEvent } from './fleet-events';
import { NODE_IMAGE_CALLS, type NodeImageCalls } from './node-image-calls';
import { NodeImagesRepository } from './node-images.repository';

/**
 * Pre-pull (issue 9): every up node holds the active catalogue's images before a signup needs
 * them. When a node is ready (its first synced heartbeat after it connected, came back or
 * restarted) it is told the active catalogue's images (SetKeptImages: never evicted) and asked
 * to pull each (PullImage, with the stored credential of the image's registry; a cached pinned
 * image is answered from the node's cache). When an admin patch (or a catalogue sync) activates
 * an agent type or changes an active one's image, every up node gets the new list and pulls that
 * image. All of it runs in the background: nothing waits for it, and a failure is recorded per
 * node and image (node_images; GET /api/admin/nodes/:id), never thrown. Placement hears which
 * nodes have which image (it prefers them when shares are equal). An agent type that runs its
 * customers' images (custom) has no image of its own to pre-pull: its base_image is a placeholder.
 */
@Injectable()
export class ImagePrePullService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly log = new Logger('pre-pull');
  private readonly subs: Subscription[] = [];
  /** Nodes already pre-pulled since they last connected or came up. */
  private readonly ready = new Set<string>();
  /** Pulls in flight, by node and image: a second ask joins the first. */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Background work still running (specs and shutdown wait for it). */
  private readonly pending = new Set<Promise<unknown>>();

  constructor(
    private readonly fleet: FleetService,
    private readonly registry: RegistryService,
    private readonly credentials: RegistryCredentialsService,
    private readonly repo: NodeImagesRepository,
    private readonly placement: PlacementService,
    @Inject(NODE_IMAGE_CALLS) private readonly calls: NodeImageCalls,
    @Inject(CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  /** An active agent type whose own image the nodes keep (not one that runs its customers' images). */
  private hasImage(a: AgentTypeRecord | null | undefined): a is AgentTypeRecord & { base_image: string } {
    return !!a && a.is_active && !!a.base_image && !takesCustomerImage(a, this.config.BERTH_TEMPLATES_DIR ?? defaultTemplatesDir());
  }

  onApplicationBootstrap(): void {
    this.subs.push(this.fleet.events.subscribe((e) => this.onFleetEvent(e)));
    this.subs.push(this.registry.agentTypeChanges.subscribe((c) => this.onAgentTypeChange(c)));
  }

  onModuleDestroy(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs.length = 0;
  }

  /** Resolves when the background work started so far has finished (specs). */
  async settled(): Promise<void> {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  private background<T>(work: Promise<T>): void {
    const p = work.catch((e: unknown) => this.log.error(`pre-pull: ${(e as Error).message}`));
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private onFleetEvent(e: FleetEvent): void {
    if (e.type === 'node_down' || e.type === 'node_up') this.ready.delete(e.nodeId);
    if (e.type !== 'heartbeat') return;
    if (!e.synced) {
      this.ready.delete(e.nodeId); // a restarted daemon: it has forgotten the list it keeps
      return;
    }
    if (this.ready.has(e.nodeId) || !this.fleet.isUp(e.nodeId)) return; // draining: no new slots; undrain says node_up
    this.ready.add(e.nodeId);
    this.background(this.prePullNode(e.nodeId));
  }

  private onAgentTypeChange(c: AgentTypeChange): void {
    const { before, after } = c;
    const wasActive = this.hasImage(before);
    const isActive = this.hasImage(after);
    if (wasActive === isActive && before?.base_image === after.base_image) return; // nothing the nodes keep changed
    const nodes = this.fleet.upNodeIds();
    if (!nodes.length) return;
    this.background(
      (async () => {
        const images = await this.activeImages();
        await Promise.all(
          nodes.map(async (nodeId) => {
            await this.sendKept(nodeId, images);
            if (isActive && after.base_image) await this.pull(nodeId, after.base_image);
          }),
        );
      })(),
    );
  }

  /** The node's turn: the kept list, then every active image, one after the other. */
  async prePullNode(nodeId: string): Promise<void> {
    const images = await this.activeImages();
    await this.sendKept(nodeId, images);
    for (const image of images) await this.pull(nodeId, image);
  }

  /** The images of the active agent types, sorted, without repeats. */
  private async activeImages(): Promise<string[]> {
    const agents = await this.registry.listAgentTypes();
    return [...new Set(agents.filter((a) => this.hasImage(a)).map((a) => a.base_image as string))].sort();
  }

  private async sendKept(nodeId: string, images: string[]): Promise<void> {
    try {
      await this.calls.setKeptImages(nodeId, images);
    } catch (e) {
      this.log.warn(`node ${nodeId}: could not send the images to keep: ${(e as Error).message}`);
    }
  }

  /** One pull of one image on one node, recorded; joins a pull of the same already in flight. */
  pull(nodeId: string, image: string): Promise<void> {
    const key = `${nodeId}\u0000${image}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const p = this.doPull(nodeId, image).finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, p);
    return p;
  }

  private async doPull(nodeId: string, image: string): Promise<void> {
    try {
      await this.repo.markPulling(nodeId, image);
      let auth: RegistryAuth | undefined;
      try {
        auth = await this.credentials.authFor(image);
      } catch (e) {
        await this.repo.markFailed(nodeId, image, 'registry_auth', (e as Error).message);
        return;
      }
      const started = Date.now();
      const r = await this.calls.pullImage(nodeId, image, auth);
      this.placement.setNodeImage(nodeId, image, r.ok);
      if (r.ok) {
        await this.repo.markPresent(nodeId, image, r.digest);
        this.log.log(`node ${nodeId} has ${image} (${r.cached ? 'cached' : `pulled in ${Date.now() - started} ms`})`);
      } else {
        await this.repo.markFailed(nodeId, image, r.reason, r.message);
        this.log.warn(`node ${nodeId} could not pre-pull ${image}: ${r.reason}: ${r.message}`);
      }
    } catch (e) {
      // The node was removed meanwhile (foreign key), or the database failed: nothing to record it in.
      this.log.warn(`node ${nodeId}: could not record the pre-pull of ${image}: ${(e as Error).message}`);
    }
  }
}
