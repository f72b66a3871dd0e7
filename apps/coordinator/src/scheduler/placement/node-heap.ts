/** The index's binary heap of nodes in strategy order, and the in-order walk over it. */
import { StrategyOrder, preferred } from './strategies';

/** What the heap needs of an entry: its order (share, then id) and where it sits. */
export interface HeapItem {
  readonly id: string;
  share: number;
  /** Position in the heap, or -1 when not in it; kept up to date by the heap. */
  pos: number;
}

/**
 * A binary heap ordered by a strategy (the best node at the top). Entries carry their own
 * position, so one can be re-sifted or removed in O(log n) after its share changes.
 */
export class NodeHeap<T extends HeapItem> {
  private readonly heap: T[] = [];

  constructor(private readonly order: StrategyOrder) {}

  /** Puts `e` in if it is not there yet, then re-sifts it (after any change to its share). */
  update(e: T): void {
    if (e.pos < 0) {
      e.pos = this.heap.length;
      this.heap.push(e);
    }
    this.siftDown(this.siftUp(e.pos));
  }

  /** Takes `e` out; no-op when it is not in the heap. */
  remove(e: T): void {
    if (e.pos >= 0) this.heapRemove(e.pos);
  }

  /**
   * Starts a walk over the entries in preference order: pass the frontier it returns to `next`
   * until that gives undefined. The heap must not change during a walk.
   */
  startWalk(): number[] {
    // Frontier: heap positions, itself a binary heap under the same order.
    return this.heap.length === 0 ? [] : [0];
  }

  /**
   * The walk's next entry, or undefined when there is none. Each step pops the best position off
   * the frontier and pushes its children, so the k best cost O(k log k).
   */
  next(frontier: number[]): T | undefined {
    if (frontier.length === 0) return undefined;
    const heap = this.heap;
    const n = heap.length;
    const pos = this.frontierPop(frontier);
    const l = 2 * pos + 1;
    if (l < n) this.frontierPush(frontier, l);
    if (l + 1 < n) this.frontierPush(frontier, l + 1);
    return heap[pos];
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

  private before(a: T, b: T): boolean {
    return preferred(this.order, a.share, a.id, b.share, b.id);
  }

  private heapRemove(pos: number): void {
    const heap = this.heap;
    const removed = heap[pos];
    const last = heap.pop() as T;
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
