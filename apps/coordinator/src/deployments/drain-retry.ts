/**
 * When a drained node's slots are tried again. A drain moves every slot off the node once; a move
 * that fails (the target's Docker refused, the image would not pull there, no room anywhere)
 * leaves the slot running where it was, on a node nobody will ever look at again unless something
 * tries again. The draining node's own heartbeats ask `due()`; each retry that still finds slots
 * to move doubles the wait, up to `maxMs`, so a slot that cannot move anywhere does not make a
 * failed deployment every few seconds. A new drain starts over.
 */
export class DrainRetry {
  private readonly next = new Map<string, { at: number; delayMs: number }>();

  constructor(
    private readonly firstMs: number,
    private readonly maxMs = 5 * 60_000,
  ) {}

  /** The node was (re)drained: its first retry comes `firstMs` from now. */
  drained(nodeId: string, now = Date.now()): void {
    this.next.set(nodeId, { at: now + this.firstMs, delayMs: this.firstMs });
  }

  /** Whether a heartbeat of this draining node should try its remaining slots now. */
  due(nodeId: string, now = Date.now()): boolean {
    let n = this.next.get(nodeId);
    // A node found draining without a drain seen by this process (it was drained before a restart).
    if (!n) this.next.set(nodeId, (n = { at: now, delayMs: this.firstMs }));
    return now >= n.at;
  }

  /** A retry ran and started `moved` moves: wait longer when there was something left to move. */
  tried(nodeId: string, moved: number, now = Date.now()): void {
    const n = this.next.get(nodeId) ?? { at: now, delayMs: this.firstMs };
    this.next.set(nodeId, { at: now + n.delayMs, delayMs: moved > 0 ? Math.min(n.delayMs * 2, this.maxMs) : n.delayMs });
  }

  /** The node is not draining any more (undrained, or down: its slots are rescheduled instead). */
  forget(nodeId: string): void {
    this.next.delete(nodeId);
  }
}
