import { RateLimiter } from './rate-limiter';

describe('RateLimiter', () => {
  it('allows `limit` hits per window per key, then refuses until the window ends', () => {
    let now = 0;
    const rl = new RateLimiter(() => now);
    for (let i = 0; i < 3; i++) expect(rl.hit('ip:a', 3, 1000)).toBe(true);
    expect(rl.hit('ip:a', 3, 1000)).toBe(false);
    expect(rl.blocked('ip:a', 3)).toBe(true);
    expect(rl.hit('ip:b', 3, 1000)).toBe(true);
    now = 1000;
    expect(rl.blocked('ip:a', 3)).toBe(false);
    expect(rl.hit('ip:a', 3, 1000)).toBe(true);
  });
});
