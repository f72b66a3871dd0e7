import { EventEmitter } from 'node:events';
import type { NodeAgentClient, NodeEvent } from '@berth/proto';
import { backoffMs, NodeConnection, normaliseFingerprint, type NodeTransport } from './node-connection';

const FP = 'AA:BB:' + '00:'.repeat(29) + 'CC';

class FakeStream extends EventEmitter {
  cancelled = false;
  cancel() {
    this.cancelled = true;
  }
}

function fakes(opts: { fingerprint?: string; failFetches?: number } = {}) {
  const streams: FakeStream[] = [];
  let fetches = 0;
  const created: Array<{ token: string; fingerprintSha256: string; serverCertPem: string }> = [];
  const client = {
    watchEvents: jest.fn(() => {
      const s = new FakeStream();
      streams.push(s);
      return s;
    }),
    close: jest.fn(),
  } as unknown as NodeAgentClient;
  const transport: NodeTransport = {
    fetchCertificate: async () => {
      fetches += 1;
      if (fetches <= (opts.failFetches ?? 0)) throw new Error('connect ECONNREFUSED');
      return { pem: 'PEM', fingerprintSha256: opts.fingerprint ?? FP };
    },
    createClient: (_a, c) => {
      created.push(c);
      return client;
    },
  };
  return { transport, streams, created, client, fetches: () => fetches };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('NodeConnection', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('pins the enrolled fingerprint, sends the token, asks for the heartbeat period and passes events on', async () => {
    const f = fakes({ fingerprint: FP.toLowerCase().replace(/:/g, '') });
    const events: NodeEvent[] = [];
    const c = new NodeConnection({ nodeId: 'n', address: 'h:1', fingerprintSha256: FP, token: 'tok', heartbeatMs: 300, maxBackoffMs: 1000, transport: f.transport, onEvent: (e) => events.push(e), onTrouble: () => undefined });
    c.start();
    await flush();
    expect(f.created).toEqual([{ token: 'tok', serverCertPem: 'PEM', fingerprintSha256: FP }]);
    expect(f.client.watchEvents).toHaveBeenCalledWith({ heartbeatIntervalMs: 300 });
    const ev: NodeEvent = { event: { $case: 'heartbeat', value: { nodeId: 'x', atMs: 1, capacity: undefined, synced: true, imageBytes: 0 } } };
    f.streams[0].emit('data', ev);
    expect(events).toEqual([ev]);
    expect(c.getClient()).toBe(f.client);
    c.close();
    expect(f.streams[0].cancelled).toBe(true);
  });

  it('refuses a daemon whose certificate is not the enrolled one, and keeps retrying', async () => {
    const f = fakes({ fingerprint: 'DE:AD:' + '00:'.repeat(29) + 'FF' });
    const trouble: string[] = [];
    const c = new NodeConnection({ nodeId: 'n', address: 'h:1', fingerprintSha256: FP, token: 't', heartbeatMs: 300, maxBackoffMs: 1000, transport: f.transport, onEvent: () => undefined, onTrouble: (m) => trouble.push(m) });
    c.start();
    await flush();
    expect(f.created).toHaveLength(0);
    expect(c.getClient()).toBeUndefined();
    expect(trouble[0]).toMatch(/not the enrolled one/);
    await jest.advanceTimersByTimeAsync(5000);
    expect(f.fetches()).toBeGreaterThan(2);
    expect(f.created).toHaveLength(0);
    c.close();
  });

  it('re-opens the stream with backoff after an error, and resets the backoff once data flows', async () => {
    const f = fakes({ failFetches: 2 });
    const attempts: number[] = [];
    const c = new NodeConnection({ nodeId: 'n', address: 'h:1', fingerprintSha256: FP, token: 't', heartbeatMs: 300, maxBackoffMs: 8000, transport: f.transport, onEvent: () => undefined, onTrouble: (_m, a) => attempts.push(a) });
    c.start();
    await flush();
    expect(attempts).toEqual([1]);
    await jest.advanceTimersByTimeAsync(400); // first retry (250 ms ± 20 %): fails again
    expect(attempts).toEqual([1, 2]);
    await jest.advanceTimersByTimeAsync(700); // second retry (500 ms ± 20 %): connects
    expect(f.streams).toHaveLength(1);
    f.streams[0].emit('data', { event: undefined });
    f.streams[0].emit('error', Object.assign(new Error('x'), { details: 'Connection dropped' }));
    expect(attempts).toEqual([1, 2, 1]);
    await jest.advanceTimersByTimeAsync(400);
    expect(f.streams).toHaveLength(2);
    // An 'end' after the stream was already replaced changes nothing.
    f.streams[0].emit('end');
    expect(attempts).toEqual([1, 2, 1]);
    c.close();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(f.streams).toHaveLength(2);
  });

  it('restart() drops a silent stream and opens a new one at once', async () => {
    const f = fakes();
    const c = new NodeConnection({ nodeId: 'n', address: 'h:1', fingerprintSha256: FP, token: 't', heartbeatMs: 300, maxBackoffMs: 1000, transport: f.transport, onEvent: () => undefined, onTrouble: () => undefined });
    c.start();
    await flush();
    c.restart();
    await flush();
    expect(f.streams).toHaveLength(2);
    expect(f.streams[0].cancelled).toBe(true);
    c.close();
  });
});

describe('backoffMs', () => {
  it('doubles from 250 ms up to the cap, within ±20 %', () => {
    expect(backoffMs(1, 10_000, () => 0.5)).toBe(250);
    expect(backoffMs(2, 10_000, () => 0.5)).toBe(500);
    expect(backoffMs(5, 10_000, () => 0.5)).toBe(4000);
    expect(backoffMs(50, 10_000, () => 0.5)).toBe(10_000);
    expect(backoffMs(50, 10_000, () => 0)).toBe(8000);
    expect(backoffMs(50, 10_000, () => 0.999)).toBeLessThanOrEqual(12_000);
  });

  it('normalises fingerprints written either way', () => {
    expect(normaliseFingerprint('ab:cd')).toBe(normaliseFingerprint('ABCD'));
  });
});
