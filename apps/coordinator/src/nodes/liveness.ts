/**
 * Down detection, pure: who has been silent for longer than the grace period. No timers and no
 * clock of its own (the caller passes `now`), so the rules are tested without waiting.
 *
 * - A node being watched starts "alive" with a fresh grace period (a coordinator restart or a new
 *   enrolment gives every node time to connect), unless it is known to be down already.
 * - `seen` on every message from the node; it answers whether the node just came back.
 * - `sweep` answers the nodes that have just gone past the grace period, once per outage.
 */
export class LivenessTracker {
  private readonly lastSeen = new Map<string, number>();
  private readonly down = new Set<string>();

  constructor(private readonly graceMs: number) {
    if (!(graceMs > 0)) throw new RangeError('graceMs must be positive');
  }

  watch(nodeId: string, now: number, startDown = false): void {
    this.lastSeen.set(nodeId, now);
    if (startDown) this.down.add(nodeId);
    else this.down.delete(nodeId);
  }

  forget(nodeId: string): void {
    this.lastSeen.delete(nodeId);
    this.down.delete(nodeId);
  }

  /** Records a message from the node. Returns 'came_up' when it was down, else 'alive'. Unknown nodes are ignored. */
  seen(nodeId: string, now: number): 'came_up' | 'alive' | 'unknown' {
    if (!this.lastSeen.has(nodeId)) return 'unknown';
    this.lastSeen.set(nodeId, Math.max(now, this.lastSeen.get(nodeId)!));
    if (this.down.delete(nodeId)) return 'came_up';
    return 'alive';
  }

  /** Nodes silent for strictly longer than the grace period that were not down yet; they are down from now on. */
  sweep(now: number): string[] {
    const out: string[] = [];
    for (const [id, at] of this.lastSeen) {
      if (!this.down.has(id) && now - at > this.graceMs) {
        this.down.add(id);
        out.push(id);
      }
    }
    return out;
  }

  isDown(nodeId: string): boolean {
    return this.down.has(nodeId);
  }

  isWatched(nodeId: string): boolean {
    return this.lastSeen.has(nodeId);
  }

  lastSeenAt(nodeId: string): number | undefined {
    return this.lastSeen.get(nodeId);
  }
}
