import { LivenessTracker } from './liveness';

describe('LivenessTracker', () => {
  it('goes down only strictly after the grace period, once per outage, and comes back on the next message', () => {
    const t = new LivenessTracker(1000);
    t.watch('a', 0);
    expect(t.sweep(1000)).toEqual([]);
    expect(t.sweep(1001)).toEqual(['a']);
    expect(t.isDown('a')).toBe(true);
    expect(t.sweep(5000)).toEqual([]);
    expect(t.seen('a', 5001)).toBe('came_up');
    expect(t.isDown('a')).toBe(false);
    expect(t.seen('a', 5002)).toBe('alive');
    expect(t.sweep(6002)).toEqual([]);
    expect(t.sweep(6003)).toEqual(['a']);
  });

  it('keeps a node that speaks within the grace period up', () => {
    const t = new LivenessTracker(1000);
    t.watch('a', 0);
    for (let now = 900; now < 10_000; now += 900) {
      expect(t.seen('a', now)).toBe('alive');
      expect(t.sweep(now + 899)).toEqual([]);
    }
  });

  it('starts a node known to be down as down, and ignores nodes it does not watch', () => {
    const t = new LivenessTracker(1000);
    t.watch('d', 0, true);
    expect(t.isDown('d')).toBe(true);
    expect(t.sweep(10_000)).toEqual([]);
    expect(t.seen('d', 10_001)).toBe('came_up');
    expect(t.seen('nobody', 1)).toBe('unknown');
    t.forget('d');
    expect(t.isWatched('d')).toBe(false);
    expect(t.sweep(99_999)).toEqual([]);
  });

  it('does not let an out-of-order timestamp move last-seen backwards', () => {
    const t = new LivenessTracker(1000);
    t.watch('a', 5000);
    t.seen('a', 100);
    expect(t.sweep(5999)).toEqual([]);
  });
});
