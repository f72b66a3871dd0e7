import { Inject, Injectable } from '@nestjs/common';
import {
  NodeCapacity,
  NodeStatus,
  PlaceOptions,
  PlacementIndex,
  PlacementRequest,
  PlacementResult,
  PlacementStrategy,
  SlotDemand,
  placementError,
} from './placement';
import { SCHEDULER_CONFIG, SchedulerConfig } from './scheduler.config';

/**
 * The coordinator's in-memory view of fleet capacity and its placement decisions.
 *
 * Intended use by the deployment flow (the database stays the source of truth):
 *   1. keep the view fresh: `syncNodes` at boot, `upsertNode`/`setNodeStatus` on heartbeats and drains;
 *   2. `placeAndReserve(request)` gives a node and holds the room here, so a burst doesn't pile onto it;
 *   3. reserve in the database with the conditional update; when it takes, `confirm` here; if it
 *      loses the race, `abandon` here, refresh that node with `upsertNode`, and call
 *      `placeAndReserve` again with the node in `exclude`;
 *   4. on terminate or a failed deployment, `release`.
 */
@Injectable()
export class PlacementService {
  private readonly index: PlacementIndex;
  /**
   * Room taken by placeAndReserve and not yet confirmed in the database. A node's view refreshed
   * from its database row (heartbeats) would otherwise drop it, and a burst of placements would
   * pile onto the node that looks empty again.
   */
  private readonly pending = new Map<string, { memoryBytes: number; nanoCpus: number }>();

  constructor(@Inject(SCHEDULER_CONFIG) config: SchedulerConfig) {
    this.index = new PlacementIndex([], { strategy: config.strategy });
  }

  get strategy(): PlacementStrategy {
    return this.index.strategy;
  }

  /** Replaces the whole view (e.g. from the nodes table at boot): nodes not listed are forgotten. */
  syncNodes(nodes: readonly NodeCapacity[]): void {
    const keep = new Set(nodes.map((n) => n.id));
    for (const n of this.index.nodes()) if (!keep.has(n.id)) this.index.remove(n.id);
    for (const n of nodes) this.upsertNode(n);
  }

  /** A node as its database row (or heartbeat) says, plus what is placed here but not yet confirmed there. */
  upsertNode(node: NodeCapacity): void {
    const p = this.pending.get(node.id);
    this.index.upsert(p ? { ...node, allocatedMemoryBytes: node.allocatedMemoryBytes + p.memoryBytes, allocatedNanoCpus: node.allocatedNanoCpus + p.nanoCpus } : node);
  }

  private addPending(nodeId: string, demand: SlotDemand, sign: 1 | -1): void {
    const p = this.pending.get(nodeId) ?? { memoryBytes: 0, nanoCpus: 0 };
    p.memoryBytes = Math.max(0, p.memoryBytes + sign * demand.memoryBytes);
    p.nanoCpus = Math.max(0, p.nanoCpus + sign * demand.nanoCpus);
    if (p.memoryBytes === 0 && p.nanoCpus === 0) this.pending.delete(nodeId);
    else this.pending.set(nodeId, p);
  }

  /** The database now holds what placeAndReserve took on this node (its rows include it from here on). */
  confirm(nodeId: string, demand: SlotDemand): void {
    this.addPending(nodeId, demand, -1);
  }

  /** Gives back what placeAndReserve took when the database refused it (a lost race). */
  abandon(nodeId: string, demand: SlotDemand): void {
    this.addPending(nodeId, demand, -1);
    this.index.release(nodeId, demand);
  }

  /** Whether a node has an image (pre-pulled): placement prefers it when shares are equal. */
  setNodeImage(nodeId: string, image: string, has: boolean): void {
    this.index.setImage(nodeId, image, has);
  }

  removeNode(nodeId: string): boolean {
    return this.index.remove(nodeId);
  }

  setNodeStatus(nodeId: string, status: NodeStatus): void {
    this.index.setStatus(nodeId, status);
  }

  getNode(nodeId: string): NodeCapacity | undefined {
    return this.index.get(nodeId);
  }

  listNodes(): NodeCapacity[] {
    return this.index.nodes();
  }

  /** Chooses without reserving. */
  place(request: PlacementRequest, options?: PlaceOptions): PlacementResult {
    return this.index.place(request, options);
  }

  /** Chooses and holds the room in memory. */
  placeAndReserve(request: PlacementRequest, options?: PlaceOptions): PlacementResult {
    const r = this.index.placeAndReserve(request, options);
    if (r.ok) this.addPending(r.nodeId, request, 1);
    return r;
  }

  /** Like placeAndReserve, but a failure is a CapacityExhaustedError carrying the readable reason. */
  placeAndReserveOrThrow(request: PlacementRequest, options?: PlaceOptions): string {
    const result = this.placeAndReserve(request, options);
    if (!result.ok) throw placementError(result);
    return result.nodeId;
  }

  /** Up to `limit` nodes in the order to try them. */
  candidates(request: PlacementRequest, limit: number, options?: PlaceOptions): string[] {
    return this.index.candidates(request, limit, options);
  }

  reserve(nodeId: string, demand: SlotDemand): boolean {
    return this.index.reserve(nodeId, demand);
  }

  release(nodeId: string, demand: SlotDemand): boolean {
    return this.index.release(nodeId, demand);
  }
}
