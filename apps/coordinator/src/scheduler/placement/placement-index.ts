/** `PlacementIndex`: the fleet held in memory, its reservations and releases, placement in O(log n). */
import { explainNoFit } from './explain';
import { eligible, fitsResources, validateNode, validateRequest } from './fit';
import { NodeHeap } from './node-heap';
import { place } from './place';
import { PlacementStrategy, StrategyOrder, dominantShare, hasImage, preferredWithImage, strategyOrder } from './strategies';
import {
  BASE_SLOT,
  NodeCapacity,
  NodeStatus,
  PlaceOptions,
  PlacementRequest,
  PlacementResult,
  SlotDemand,
} from './types';

export interface PlacementIndexOptions {
  strategy?: PlacementStrategy;
  /**
   * The smallest demand the index is tuned for (default: BASE_SLOT). Nodes that cannot take even
   * this are parked out of the heap, so full nodes cost nothing per placement. A request smaller
   * than the floor in any dimension is still answered correctly, by a linear scan.
   */
  floor?: SlotDemand;
}

/** The index's own mutable copy of a node, plus where it sits in the heap. */
interface Entry extends NodeCapacity {
  labels: Readonly<Record<string, string>>;
  images: Set<string>;
  share: number;
  /** Position in `heap`, or -1 when parked (not up, or no room for the floor). */
  pos: number;
}

/**
 * The fleet's capacity in memory, ordered for placement.
 *
 * Data structure: a binary heap of the nodes that are up and have room for at least `floor`,
 * ordered by the strategy (spread: lowest dominant share first; binpack: highest first; then id).
 * A placement walks the heap in order with a small frontier heap (the k best of a binary heap in
 * O(k log k)) and stops at the first node that fits, so it costs O(log n) when the best node
 * fits, which is the common case: in spread the least-loaded node nearly always has room, and in
 * binpack nodes too full for the smallest slot are parked. It degrades to O(k log k) when the k
 * best nodes fail constraints, exclusions or a request larger than the floor. A reservation or
 * release re-sifts one node: O(log n). When nothing fits, the reason is built in O(n).
 *
 * Not thread-safe in any sense that matters in Node: every method is synchronous, so a burst of
 * placements in one process sees its own reservations.
 */
export class PlacementIndex {
  readonly strategy: PlacementStrategy;
  private readonly order: StrategyOrder;
  private readonly floor: SlotDemand;
  private readonly entries = new Map<string, Entry>();
  private readonly heap: NodeHeap<Entry>;
  /** Every node, re-iterable (a Map iterator is single-use, and place() may walk twice). */
  private readonly all: Iterable<NodeCapacity> = { [Symbol.iterator]: () => this.entries.values() };

  constructor(nodes: Iterable<NodeCapacity> = [], options: PlacementIndexOptions = {}) {
    this.strategy = options.strategy ?? 'spread';
    this.order = strategyOrder(this.strategy);
    this.heap = new NodeHeap(this.order);
    this.floor = { ...(options.floor ?? BASE_SLOT) };
    for (const n of nodes) this.upsert(n);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds a node or replaces everything known about it (heartbeat, fresh row from the database). */
  upsert(node: NodeCapacity): void {
    validateNode(node);
    let e = this.entries.get(node.id);
    if (!e) {
      e = {
        id: node.id,
        status: node.status,
        allocatableMemoryBytes: node.allocatableMemoryBytes,
        allocatedMemoryBytes: node.allocatedMemoryBytes,
        allocatableNanoCpus: node.allocatableNanoCpus,
        allocatedNanoCpus: node.allocatedNanoCpus,
        freePorts: node.freePorts,
        labels: { ...node.labels },
        images: new Set(node.images ?? []),
        share: 0,
        pos: -1,
      };
      this.entries.set(node.id, e);
    } else {
      e.status = node.status;
      e.allocatableMemoryBytes = node.allocatableMemoryBytes;
      e.allocatedMemoryBytes = node.allocatedMemoryBytes;
      e.allocatableNanoCpus = node.allocatableNanoCpus;
      e.allocatedNanoCpus = node.allocatedNanoCpus;
      e.freePorts = node.freePorts;
      e.labels = { ...node.labels };
      // A capacity report says nothing about images: what the index knows of them stays.
      if (node.images !== undefined) e.images = new Set(node.images);
    }
    this.reposition(e);
  }

  /** Records whether a node has an image (it only breaks ties: the heap order does not change). False for an unknown node. */
  setImage(nodeId: string, image: string, has: boolean): boolean {
    const e = this.entries.get(nodeId);
    if (!e) return false;
    if (has) e.images.add(image);
    else e.images.delete(image);
    return true;
  }

  remove(nodeId: string): boolean {
    const e = this.entries.get(nodeId);
    if (!e) return false;
    this.heap.remove(e);
    this.entries.delete(nodeId);
    return true;
  }

  setStatus(nodeId: string, status: NodeStatus): void {
    const e = this.mustGet(nodeId);
    e.status = status;
    this.reposition(e);
  }

  /** A copy of what the index holds for one node. */
  get(nodeId: string): NodeCapacity | undefined {
    const e = this.entries.get(nodeId);
    return e ? snapshot(e) : undefined;
  }

  nodes(): NodeCapacity[] {
    return [...this.entries.values()].map(snapshot);
  }

  /** Chooses a node without reserving anything. Same answer as `place(request, this.nodes(), ...)`. */
  place(request: PlacementRequest, options: PlaceOptions = {}): PlacementResult {
    validateRequest(request);
    const exclude = options.exclude;
    const prefer = request.affinity?.preferNodeId;
    if (prefer !== undefined) {
      const e = this.entries.get(prefer);
      if (e && eligible(e, request, exclude)) return { ok: true, nodeId: e.id, why: 'affinity' };
    }
    if (!this.coveredByFloor(request)) return place(request, this.all, { strategy: this.strategy, exclude });
    const { picked, avoided } = this.walk(request, exclude, 1);
    if (picked.length > 0) return { ok: true, nodeId: picked[0].id, why: 'strategy' };
    if (avoided.length > 0) return { ok: true, nodeId: avoided[0].id, why: 'avoided-fallback' };
    return explainNoFit(request, this.all, exclude);
  }

  /**
   * Up to `limit` node ids in the order they should be tried: the affinity node, then the strategy's
   * order, then the avoided nodes. For a caller that reserves in the database and moves on to the
   * next candidate when a conditional update loses a race.
   */
  candidates(request: PlacementRequest, limit: number, options: PlaceOptions = {}): string[] {
    validateRequest(request);
    if (limit <= 0) return [];
    const exclude = options.exclude;
    const prefer = request.affinity?.preferNodeId;
    const out: string[] = [];
    const skip = new Set(exclude);
    if (prefer !== undefined) {
      const e = this.entries.get(prefer);
      if (e && eligible(e, request, exclude)) {
        out.push(e.id);
        skip.add(e.id);
      }
    }
    if (out.length >= limit) return out;
    if (!this.coveredByFloor(request)) {
      // Rare: a request below the floor. Rank every eligible node; O(n log n).
      const avoid = new Set(request.affinity?.avoidNodeIds ?? []);
      const ranked = [...this.entries.values()]
        .filter((e) => eligible(e, request, skip))
        .map((e) => ({ e, share: dominantShare(e), has: hasImage(e, request.image) }))
        .sort((a, b) => {
          const av = avoid.has(a.e.id) ? 1 : 0;
          const bv = avoid.has(b.e.id) ? 1 : 0;
          if (av !== bv) return av - bv;
          if (preferredWithImage(this.order, a.share, a.has, a.e.id, b.share, b.has, b.e.id)) return -1;
          return preferredWithImage(this.order, b.share, b.has, b.e.id, a.share, a.has, a.e.id) ? 1 : 0;
        });
      for (const r of ranked) {
        if (out.length >= limit) break;
        out.push(r.e.id);
      }
      return out;
    }
    const { picked, avoided } = this.walk(request, skip, limit - out.length);
    for (const e of picked) out.push(e.id);
    for (const e of avoided) {
      if (out.length >= limit) break;
      out.push(e.id);
    }
    return out;
  }

  /**
   * Takes `demand` from a node if it is up and has room; false otherwise (unknown node, not up, no room).
   * The same condition the database's conditional update checks.
   */
  reserve(nodeId: string, demand: SlotDemand): boolean {
    const e = this.entries.get(nodeId);
    if (!e || e.status !== 'up' || !fitsResources(e, demand.memoryBytes, demand.nanoCpus, demand.ports))
      return false;
    e.allocatedMemoryBytes += demand.memoryBytes;
    e.allocatedNanoCpus += demand.nanoCpus;
    e.freePorts -= demand.ports;
    this.reposition(e);
    return true;
  }

  /**
   * Gives `demand` back to a node. Clamped at zero allocation: a fresh capacity report (upsert) may
   * already have counted the slot out before the release arrives. Unknown node: no-op, false.
   */
  release(nodeId: string, demand: SlotDemand): boolean {
    const e = this.entries.get(nodeId);
    if (!e) return false;
    e.allocatedMemoryBytes = Math.max(0, e.allocatedMemoryBytes - demand.memoryBytes);
    e.allocatedNanoCpus = Math.max(0, e.allocatedNanoCpus - demand.nanoCpus);
    e.freePorts += demand.ports;
    this.reposition(e);
    return true;
  }

  /** `place` then `reserve` on the chosen node, so the next placement of a burst sees it. */
  placeAndReserve(request: PlacementRequest, options: PlaceOptions = {}): PlacementResult {
    const result = this.place(request, options);
    if (result.ok && !this.reserve(result.nodeId, request)) {
      // Cannot happen: place() only returns nodes that fit. Loud if it ever does.
      throw new Error(`placement chose node ${result.nodeId} for slot ${request.slotId} but it has no room`);
    }
    return result;
  }

  // --- internals -------------------------------------------------------------------------------

  private mustGet(nodeId: string): Entry {
    const e = this.entries.get(nodeId);
    if (!e) throw new RangeError(`unknown node ${nodeId}`);
    return e;
  }

  private coveredByFloor(r: SlotDemand): boolean {
    return (
      r.memoryBytes >= this.floor.memoryBytes &&
      r.nanoCpus >= this.floor.nanoCpus &&
      r.ports >= this.floor.ports
    );
  }

  /**
   * The heap's entries in preference order until `limit` fitting, non-avoided ones are found.
   * Fitting avoided ones met on the way are collected too (at most `limit`). With a request's
   * image, the walk goes on through the nodes of the same share as the last one taken (they may
   * win the tie by having the image): O(t log n) more for t such nodes.
   */
  private walk(
    request: PlacementRequest,
    exclude: ReadonlySet<string> | undefined,
    limit: number,
  ): { picked: Entry[]; avoided: Entry[] } {
    const picked: Entry[] = [];
    const avoided: Entry[] = [];
    const avoid = request.affinity?.avoidNodeIds;
    const hasAvoid = avoid !== undefined && avoid.length > 0;
    const image = request.image;
    const frontier = this.heap.startWalk();
    for (let e = this.heap.next(frontier); e !== undefined; e = this.heap.next(frontier)) {
      // Only with an image: the walk is past `limit` and looks for ties of the last share taken.
      if (picked.length >= limit && e.share !== picked[picked.length - 1].share) break;
      if (!eligible(e, request, exclude)) continue;
      if (hasAvoid && avoid.includes(e.id)) {
        if (avoided.length < limit || (image !== undefined && e.share === avoided[avoided.length - 1].share)) avoided.push(e);
        continue;
      }
      picked.push(e);
      if (picked.length >= limit && image === undefined) break;
    }
    if (image === undefined) return { picked, avoided };
    return { picked: imageFirst(picked, image, limit), avoided: imageFirst(avoided, image, limit) };
  }

  /** After any change to a node: recompute its share, then put it in, take it out or re-sift it. */
  private reposition(e: Entry): void {
    e.share = dominantShare(e);
    const belongs =
      e.status === 'up' && fitsResources(e, this.floor.memoryBytes, this.floor.nanoCpus, this.floor.ports);
    if (!belongs) {
      this.heap.remove(e);
      return;
    }
    this.heap.update(e);
  }
}

/** Entries in walk order (share, then id) reordered so that within each share those with `image` come first; the first `limit`. */
function imageFirst(list: Entry[], image: string, limit: number): Entry[] {
  const out: Entry[] = [];
  for (let i = 0; i < list.length && out.length < limit; ) {
    let j = i;
    while (j < list.length && list[j].share === list[i].share) j++;
    for (let k = i; k < j; k++) if (list[k].images.has(image)) out.push(list[k]);
    for (let k = i; k < j; k++) if (!list[k].images.has(image)) out.push(list[k]);
    i = j;
  }
  return out.length > limit ? out.slice(0, limit) : out;
}

function snapshot(e: Entry): NodeCapacity {
  return {
    id: e.id,
    status: e.status,
    allocatableMemoryBytes: e.allocatableMemoryBytes,
    allocatedMemoryBytes: e.allocatedMemoryBytes,
    allocatableNanoCpus: e.allocatableNanoCpus,
    allocatedNanoCpus: e.allocatedNanoCpus,
    freePorts: e.freePorts,
    labels: { ...e.labels },
    ...(e.images.size > 0 ? { images: new Set(e.images) } : {}),
  };
}
