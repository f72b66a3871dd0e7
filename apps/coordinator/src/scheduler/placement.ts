/**
 * Placement: which node gets a slot. Pure, synchronous, no I/O (see docs/adr/0005-scheduler.md).
 *
 * Two entry points that always agree on the answer:
 * - `place(request, nodes, options)`: one pass over a list, O(n), no sort. For a one-off
 *   decision from a fresh list (and the oracle the index is tested against).
 * - `PlacementIndex`: holds the fleet in memory, applies reservations and releases, and places
 *   in O(log n) per placement in the common case (a binary heap ordered by load; see below).
 *
 * Order of preference: a node that fits the request and its constraints, is `up` and not in
 * `exclude`; the affinity node first if it fits; nodes in `avoidNodeIds` only if nothing else
 * fits; then by strategy:
 * - spread (default): lowest dominant share first (max of memory and CPU allocated/allocatable);
 * - binpack: highest dominant share first.
 * Equal shares are broken by node id (ascending, code-unit order), so the choice is deterministic.
 *
 * Lost races: the database reservation (allocated + x <= allocatable) can fail after we chose.
 * The caller then retries with `exclude` holding the nodes that lost, or walks `candidates()`.
 */
import { CapacityExhaustedError } from '@berth/domain';

export type NodeStatus = 'up' | 'down' | 'draining';
export type PlacementStrategy = 'spread' | 'binpack';
export const PLACEMENT_STRATEGIES: readonly PlacementStrategy[] = ['spread', 'binpack'];

export interface NodeCapacity {
  id: string;
  status: NodeStatus;
  allocatableMemoryBytes: number;
  allocatedMemoryBytes: number;
  allocatableNanoCpus: number;
  allocatedNanoCpus: number;
  /** Host ports still free in the node's pool. */
  freePorts: number;
  labels?: Readonly<Record<string, string>>;
}

export interface PlacementRequest {
  slotId: string;
  memoryBytes: number;
  nanoCpus: number;
  /** Host ports the slot publishes. */
  ports: number;
  affinity?: {
    /** Where the slot's data already is: chosen first whenever it fits. */
    preferNodeId?: string;
    /** Soft: used only when no other node fits. */
    avoidNodeIds?: readonly string[];
  };
  /** Hard: the node's labels must hold every key with this exact value. */
  constraints?: Readonly<Record<string, string>>;
}

export interface PlaceOptions {
  /** Hard: never chosen (e.g. nodes whose conditional reservation just lost a race). */
  exclude?: ReadonlySet<string>;
}

export type PlacementFailureCode =
  'NO_NODES' | 'NO_NODE_UP' | 'CONSTRAINTS' | 'MEMORY' | 'CPU' | 'PORTS' | 'NO_SINGLE_NODE' | 'ALL_EXCLUDED';

export type PlacementResult =
  | { ok: true; nodeId: string; why: 'affinity' | 'strategy' | 'avoided-fallback' }
  | { ok: false; code: PlacementFailureCode; message: string };

export type PlacementFailure = Extract<PlacementResult, { ok: false }>;

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const NANO = 1e9;

/** The smallest slot Berth sells: 512 MiB, 0.25 CPU (the base plan). */
export const BASE_SLOT = { memoryBytes: 512 * MiB, nanoCpus: 250_000_000, ports: 0 } as const;

export function dominantShare(n: NodeCapacity): number {
  const mem = n.allocatableMemoryBytes > 0 ? n.allocatedMemoryBytes / n.allocatableMemoryBytes : 1;
  const cpu = n.allocatableNanoCpus > 0 ? n.allocatedNanoCpus / n.allocatableNanoCpus : 1;
  return mem > cpu ? mem : cpu;
}

function fitsResources(n: NodeCapacity, memoryBytes: number, nanoCpus: number, ports: number): boolean {
  return (
    n.allocatableMemoryBytes - n.allocatedMemoryBytes >= memoryBytes &&
    n.allocatableNanoCpus - n.allocatedNanoCpus >= nanoCpus &&
    n.freePorts >= ports
  );
}

function matchesConstraints(
  n: NodeCapacity,
  constraints: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!constraints) return true;
  for (const key in constraints) {
    if (n.labels?.[key] !== constraints[key]) return false;
  }
  return true;
}

/** Up, not excluded, constraints met, room for the request. Affinity and avoid are not looked at. */
function eligible(n: NodeCapacity, r: PlacementRequest, exclude: ReadonlySet<string> | undefined): boolean {
  return (
    n.status === 'up' &&
    !(exclude !== undefined && exclude.has(n.id)) &&
    fitsResources(n, r.memoryBytes, r.nanoCpus, r.ports) &&
    matchesConstraints(n, r.constraints)
  );
}

/** Strict "a is preferred to b" for a strategy: share, then id. */
function preferred(
  strategy: PlacementStrategy,
  aShare: number,
  aId: string,
  bShare: number,
  bId: string,
): boolean {
  if (aShare !== bShare) return strategy === 'spread' ? aShare < bShare : aShare > bShare;
  return aId < bId;
}

function validateRequest(r: PlacementRequest): void {
  const bad = (['memoryBytes', 'nanoCpus', 'ports'] as const).filter(
    (k) => !Number.isFinite(r[k]) || r[k] < 0,
  );
  if (bad.length > 0)
    throw new RangeError(`placement request for slot ${r.slotId}: ${bad.join(', ')} must be finite and >= 0`);
}

/**
 * Chooses a node from a list in one pass (O(n), no sort). Same answer as `PlacementIndex.place`
 * over the same nodes. `nodes` must be re-iterable (an array, not a one-shot iterator): on
 * failure it is walked again to explain why.
 */
export function place(
  request: PlacementRequest,
  nodes: Iterable<NodeCapacity>,
  options: PlaceOptions & { strategy?: PlacementStrategy } = {},
): PlacementResult {
  validateRequest(request);
  const strategy = options.strategy ?? 'spread';
  const exclude = options.exclude;
  const prefer = request.affinity?.preferNodeId;
  const avoid = request.affinity?.avoidNodeIds;
  let best: NodeCapacity | undefined;
  let bestShare = 0;
  let bestAvoided: NodeCapacity | undefined;
  let bestAvoidedShare = 0;
  for (const n of nodes) {
    if (!eligible(n, request, exclude)) continue;
    if (n.id === prefer) return { ok: true, nodeId: n.id, why: 'affinity' };
    const share = dominantShare(n);
    if (avoid !== undefined && avoid.length > 0 && avoid.includes(n.id)) {
      if (!bestAvoided || preferred(strategy, share, n.id, bestAvoidedShare, bestAvoided.id)) {
        bestAvoided = n;
        bestAvoidedShare = share;
      }
    } else if (!best || preferred(strategy, share, n.id, bestShare, best.id)) {
      best = n;
      bestShare = share;
    }
  }
  if (best) return { ok: true, nodeId: best.id, why: 'strategy' };
  if (bestAvoided) return { ok: true, nodeId: bestAvoided.id, why: 'avoided-fallback' };
  return explainNoFit(request, nodes, exclude);
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${Number((bytes / GiB).toFixed(1))} GiB`;
  return `${Math.floor(bytes / MiB)} MiB`;
}

export function formatCpus(nanoCpus: number): string {
  return `${Number((nanoCpus / NANO).toFixed(2))} CPU`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Why nothing fits, in words a customer can read. O(n); only called when placement fails.
 * Assumes no node in `nodes` is eligible for `request` (the caller has just checked).
 */
export function explainNoFit(
  request: PlacementRequest,
  nodes: Iterable<NodeCapacity>,
  exclude?: ReadonlySet<string>,
): PlacementFailure {
  let total = 0;
  let down = 0;
  let draining = 0;
  let up = 0;
  let matching = 0;
  let excludedFit = 0;
  let memFit = 0;
  let cpuFit = 0;
  let portFit = 0;
  let maxMem = -1;
  let maxMemCount = 0;
  let maxCpu = -1;
  let maxCpuCount = 0;
  let maxPorts = -1;
  let maxPortsCount = 0;
  for (const n of nodes) {
    total++;
    if (n.status === 'down') down++;
    else if (n.status === 'draining') draining++;
    if (n.status !== 'up') continue;
    up++;
    if (!matchesConstraints(n, request.constraints)) continue;
    matching++;
    if (exclude?.has(n.id) && fitsResources(n, request.memoryBytes, request.nanoCpus, request.ports))
      excludedFit++;
    const mem = n.allocatableMemoryBytes - n.allocatedMemoryBytes;
    const cpu = n.allocatableNanoCpus - n.allocatedNanoCpus;
    if (mem >= request.memoryBytes) memFit++;
    if (cpu >= request.nanoCpus) cpuFit++;
    if (n.freePorts >= request.ports) portFit++;
    if (mem > maxMem) [maxMem, maxMemCount] = [mem, 1];
    else if (mem === maxMem) maxMemCount++;
    if (cpu > maxCpu) [maxCpu, maxCpuCount] = [cpu, 1];
    else if (cpu === maxCpu) maxCpuCount++;
    if (n.freePorts > maxPorts) [maxPorts, maxPortsCount] = [n.freePorts, 1];
    else if (n.freePorts === maxPorts) maxPortsCount++;
  }
  const fail = (code: PlacementFailureCode, message: string): PlacementFailure => ({
    ok: false,
    code,
    message,
  });
  if (total === 0) return fail('NO_NODES', 'no node is enrolled yet');
  if (up === 0) {
    const parts = [down > 0 ? `${down} down` : '', draining > 0 ? `${draining} draining` : ''].filter(
      Boolean,
    );
    return fail('NO_NODE_UP', `no node is up (${parts.join(', ')})`);
  }
  if (matching === 0) {
    const wanted = Object.entries(request.constraints ?? {}).map(([k, v]) => `${k}=${v}`);
    return fail(
      'CONSTRAINTS',
      `no node that is up has the labels ${wanted.join(', ')} (${plural(up, 'node')} up)`,
    );
  }
  if (excludedFit > 0) {
    return fail(
      'ALL_EXCLUDED',
      `every node with room was already tried (${plural(excludedFit, 'node')}); try again shortly`,
    );
  }
  const wantMem = formatBytes(request.memoryBytes);
  const wantCpu = formatCpus(request.nanoCpus);
  const onUp = `${plural(up, 'node')} up`;
  if (memFit === 0) {
    const where = maxMemCount === 1 ? '1 node' : `${maxMemCount} nodes`;
    return fail(
      'MEMORY',
      `no node has ${wantMem} free memory; largest free is ${formatBytes(Math.max(0, maxMem))} on ${where} (${onUp})`,
    );
  }
  if (cpuFit === 0) {
    const where = maxCpuCount === 1 ? '1 node' : `${maxCpuCount} nodes`;
    return fail(
      'CPU',
      `no node has ${wantCpu} free; largest free is ${formatCpus(Math.max(0, maxCpu))} on ${where} (${onUp})`,
    );
  }
  if (portFit === 0) {
    const where = maxPortsCount === 1 ? '1 node' : `${maxPortsCount} nodes`;
    return fail(
      'PORTS',
      `no node has ${plural(request.ports, 'free port')}; most free is ${Math.max(0, maxPorts)} on ${where} (${onUp})`,
    );
  }
  return fail(
    'NO_SINGLE_NODE',
    `no single node has ${wantMem} memory, ${wantCpu} and ${plural(request.ports, 'port')} free at once ` +
      `(${memFit} have the memory, ${cpuFit} the CPU, ${portFit} the ports; ${onUp})`,
  );
}

/** For callers that want an exception (mapped to HTTP by the domain error filter). */
export function placementError(failure: PlacementFailure): CapacityExhaustedError {
  return new CapacityExhaustedError(failure.message);
}

/** What a slot takes from a node: what reserve/release add and subtract. */
export type SlotDemand = Pick<PlacementRequest, 'memoryBytes' | 'nanoCpus' | 'ports'>;

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
  private readonly floor: SlotDemand;
  private readonly entries = new Map<string, Entry>();
  private readonly heap: Entry[] = [];
  private readonly spread: boolean;
  /** Every node, re-iterable (a Map iterator is single-use, and place() may walk twice). */
  private readonly all: Iterable<NodeCapacity> = { [Symbol.iterator]: () => this.entries.values() };

  constructor(nodes: Iterable<NodeCapacity> = [], options: PlacementIndexOptions = {}) {
    this.strategy = options.strategy ?? 'spread';
    this.spread = this.strategy === 'spread';
    this.floor = { ...(options.floor ?? BASE_SLOT) };
    for (const n of nodes) this.upsert(n);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds a node or replaces everything known about it (heartbeat, fresh row from the database). */
  upsert(node: NodeCapacity): void {
    for (const k of [
      'allocatableMemoryBytes',
      'allocatedMemoryBytes',
      'allocatableNanoCpus',
      'allocatedNanoCpus',
      'freePorts',
    ] as const) {
      if (!Number.isFinite(node[k]) || node[k] < 0)
        throw new RangeError(`node ${node.id}: ${k} must be finite and >= 0`);
    }
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
    }
    this.reposition(e);
  }

  remove(nodeId: string): boolean {
    const e = this.entries.get(nodeId);
    if (!e) return false;
    if (e.pos >= 0) this.heapRemove(e.pos);
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
        .map((e) => ({ e, share: dominantShare(e) }))
        .sort((a, b) => {
          const av = avoid.has(a.e.id) ? 1 : 0;
          const bv = avoid.has(b.e.id) ? 1 : 0;
          if (av !== bv) return av - bv;
          if (preferred(this.strategy, a.share, a.e.id, b.share, b.e.id)) return -1;
          return preferred(this.strategy, b.share, b.e.id, a.share, a.e.id) ? 1 : 0;
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
   * Fitting avoided ones met on the way are collected too (at most `limit`).
   */
  private walk(
    request: PlacementRequest,
    exclude: ReadonlySet<string> | undefined,
    limit: number,
  ): { picked: Entry[]; avoided: Entry[] } {
    const picked: Entry[] = [];
    const avoided: Entry[] = [];
    const heap = this.heap;
    const n = heap.length;
    if (n === 0) return { picked, avoided };
    const avoid = request.affinity?.avoidNodeIds;
    const hasAvoid = avoid !== undefined && avoid.length > 0;
    // Frontier: heap positions, itself a binary heap under the same order.
    const frontier: number[] = [0];
    while (frontier.length > 0) {
      const pos = this.frontierPop(frontier);
      const e = heap[pos];
      const l = 2 * pos + 1;
      if (l < n) this.frontierPush(frontier, l);
      if (l + 1 < n) this.frontierPush(frontier, l + 1);
      if (!eligible(e, request, exclude)) continue;
      if (hasAvoid && avoid.includes(e.id)) {
        if (avoided.length < limit) avoided.push(e);
        continue;
      }
      picked.push(e);
      if (picked.length >= limit) break;
    }
    return { picked, avoided };
  }

  private frontierPush(f: number[], pos: number): void {
    const heap = this.heap;
    let i = f.length;
    f.push(pos);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(heap[f[i]], heap[f[p]])) break;
      [f[i], f[p]] = [f[p], f[i]];
      i = p;
    }
  }

  private frontierPop(f: number[]): number {
    const heap = this.heap;
    const top = f[0];
    const last = f.pop() as number;
    if (f.length > 0) {
      f[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= f.length) break;
        const r = l + 1;
        const c = r < f.length && this.before(heap[f[r]], heap[f[l]]) ? r : l;
        if (!this.before(heap[f[c]], heap[f[i]])) break;
        [f[i], f[c]] = [f[c], f[i]];
        i = c;
      }
    }
    return top;
  }

  private before(a: Entry, b: Entry): boolean {
    if (a.share !== b.share) return this.spread ? a.share < b.share : a.share > b.share;
    return a.id < b.id;
  }

  /** After any change to a node: recompute its share, then put it in, take it out or re-sift it. */
  private reposition(e: Entry): void {
    e.share = dominantShare(e);
    const belongs =
      e.status === 'up' && fitsResources(e, this.floor.memoryBytes, this.floor.nanoCpus, this.floor.ports);
    if (!belongs) {
      if (e.pos >= 0) this.heapRemove(e.pos);
      return;
    }
    if (e.pos < 0) {
      e.pos = this.heap.length;
      this.heap.push(e);
    }
    this.siftDown(this.siftUp(e.pos));
  }

  private heapRemove(pos: number): void {
    const heap = this.heap;
    const removed = heap[pos];
    const last = heap.pop() as Entry;
    removed.pos = -1;
    if (last !== removed) {
      heap[pos] = last;
      last.pos = pos;
      this.siftDown(this.siftUp(pos));
    }
  }

  private siftUp(pos: number): number {
    const heap = this.heap;
    const e = heap[pos];
    while (pos > 0) {
      const p = (pos - 1) >> 1;
      const parent = heap[p];
      if (!this.before(e, parent)) break;
      heap[pos] = parent;
      parent.pos = pos;
      pos = p;
    }
    heap[pos] = e;
    e.pos = pos;
    return pos;
  }

  private siftDown(pos: number): number {
    const heap = this.heap;
    const n = heap.length;
    const e = heap[pos];
    for (;;) {
      const l = 2 * pos + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.before(heap[r], heap[l]) ? r : l;
      if (!this.before(heap[c], e)) break;
      heap[pos] = heap[c];
      heap[pos].pos = pos;
      pos = c;
    }
    heap[pos] = e;
    e.pos = pos;
    return pos;
  }
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
  };
}
