/**
 * Fixed-window counters in memory, per key (IP, account). One coordinator process holds
 * them; a restart resets them (documented in docs/adr/0008-accounts-and-auth.md).
 */
export class RateLimiter {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Counts one event; false when the key is already at the limit in this window. */
  hit(key: string, limit: number, windowMs: number): boolean {
    const t = this.now();
    let w = this.windows.get(key);
    if (!w || w.resetAt <= t) {
      w = { count: 0, resetAt: t + windowMs };
      this.windows.set(key, w);
    }
    if (w.count >= limit) return false;
    w.count++;
    if (this.windows.size > 100_000) this.sweep(t);
    return true;
  }

  /** Whether the key is at its limit (without counting). */
  blocked(key: string, limit: number): boolean {
    const w = this.windows.get(key);
    return !!w && w.resetAt > this.now() && w.count >= limit;
  }

  reset(key: string): void {
    this.windows.delete(key);
  }

  private sweep(t: number): void {
    for (const [k, w] of this.windows) if (w.resetAt <= t) this.windows.delete(k);
  }
}
