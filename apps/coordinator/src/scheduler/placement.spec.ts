import { CapacityExhaustedError } from '@berth/domain';
import {
  BASE_SLOT,
  NodeCapacity,
  NodeStatus,
  PlacementIndex,
  PlacementRequest,
  PlacementStrategy,
  dominantShare,
  place,
  placementError,
} from './placement';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const CPU = 1e9;

function node(id: string, over: Partial<NodeCapacity> = {}): NodeCapacity {
  return {
    id,
    status: 'up',
    allocatableMemoryBytes: 8 * GiB,
    allocatedMemoryBytes: 0,
    allocatableNanoCpus: 4 * CPU,
    allocatedNanoCpus: 0,
    freePorts: 100,
    labels: {},
    ...over,
  };
}

function req(over: Partial<PlacementRequest> = {}): PlacementRequest {
  return { slotId: 's1', memoryBytes: 512 * MiB, nanoCpus: 0.25 * CPU, ports: 2, ...over };
}

/** Both entry points must give the same answer; every behavioural test runs against both. */
const engines: Array<
  [
    string,
    (
      r: PlacementRequest,
      nodes: NodeCapacity[],
      strategy?: PlacementStrategy,
      exclude?: Set<string>,
    ) => ReturnType<typeof place>,
  ]
> = [
  ['place()', (r, nodes, strategy, exclude) => place(r, nodes, { strategy, exclude })],
  [
    'PlacementIndex',
    (r, nodes, strategy, exclude) => new PlacementIndex(nodes, { strategy }).place(r, { exclude }),
  ],
];

describe.each(engines)('%s', (_name, choose) => {
  it('spread picks the node with the lowest dominant share', () => {
    const nodes = [
      node('a', { allocatedMemoryBytes: 4 * GiB }), // 0.5 by memory
      node('b', { allocatedNanoCpus: 1 * CPU }), // 0.25 by CPU
      node('c', { allocatedMemoryBytes: 1 * GiB, allocatedNanoCpus: 3 * CPU }), // 0.75 by CPU
    ];
    expect(choose(req(), nodes)).toEqual({ ok: true, nodeId: 'b', why: 'strategy' });
  });

  it('breaks ties by node id, whatever the input order', () => {
    const nodes = [node('n3'), node('n1'), node('n2')];
    expect(choose(req(), nodes, 'spread')).toMatchObject({ nodeId: 'n1' });
    expect(choose(req(), [...nodes].reverse(), 'binpack')).toMatchObject({ nodeId: 'n1' });
  });

  it('binpack picks the most loaded node that still fits', () => {
    const nodes = [
      node('full', { allocatedMemoryBytes: 8 * GiB - 100 * MiB }),
      node('busy', { allocatedMemoryBytes: 6 * GiB }),
      node('idle'),
    ];
    expect(choose(req(), nodes, 'binpack')).toMatchObject({ ok: true, nodeId: 'busy' });
    expect(choose(req(), nodes, 'spread')).toMatchObject({ ok: true, nodeId: 'idle' });
  });

  it('never picks a draining or down node, even the best one', () => {
    const nodes = [
      node('a', { status: 'draining' }),
      node('b', { status: 'down' }),
      node('c', { allocatedMemoryBytes: 7 * GiB }),
    ];
    expect(choose(req(), nodes, 'spread')).toMatchObject({ nodeId: 'c' });
    expect(choose(req(), [node('a', { status: 'draining' }), node('b', { status: 'down' })])).toEqual({
      ok: false,
      code: 'NO_NODE_UP',
      message: 'no node is up (1 down, 1 draining)',
    });
  });

  it('goes back to the node holding the slot data when it fits, whatever the strategy', () => {
    const nodes = [node('a'), node('data', { allocatedMemoryBytes: 6 * GiB })];
    const r = req({ affinity: { preferNodeId: 'data' } });
    expect(choose(r, nodes, 'spread')).toEqual({ ok: true, nodeId: 'data', why: 'affinity' });
    const full = [node('a'), node('data', { allocatedMemoryBytes: 8 * GiB })];
    expect(choose(r, full, 'spread')).toEqual({ ok: true, nodeId: 'a', why: 'strategy' });
    const draining = [node('a'), node('data', { status: 'draining' })];
    expect(choose(r, draining, 'spread')).toMatchObject({ nodeId: 'a' });
  });

  it('uses an avoided node only when nothing else fits', () => {
    const r = req({ affinity: { avoidNodeIds: ['a'] } });
    expect(choose(r, [node('a'), node('b', { allocatedMemoryBytes: 7 * GiB })])).toEqual({
      ok: true,
      nodeId: 'b',
      why: 'strategy',
    });
    expect(choose(r, [node('a'), node('b', { allocatedMemoryBytes: 8 * GiB })])).toEqual({
      ok: true,
      nodeId: 'a',
      why: 'avoided-fallback',
    });
  });

  it('never picks an excluded node, and says so when they were the only ones with room', () => {
    const nodes = [node('a'), node('b'), node('c', { allocatedMemoryBytes: 8 * GiB })];
    expect(choose(req(), nodes, 'spread', new Set(['a']))).toMatchObject({ nodeId: 'b' });
    expect(choose(req(), nodes, 'spread', new Set(['a', 'b']))).toEqual({
      ok: false,
      code: 'ALL_EXCLUDED',
      message: 'every node with room was already tried (2 nodes); try again shortly',
    });
  });

  it('honours label constraints', () => {
    const nodes = [
      node('a', { labels: { region: 'us' } }),
      node('b', { labels: { region: 'eu' }, allocatedMemoryBytes: 4 * GiB }),
    ];
    expect(choose(req({ constraints: { region: 'eu' } }), nodes)).toMatchObject({ nodeId: 'b' });
    expect(choose(req({ constraints: { region: 'ap' } }), nodes)).toEqual({
      ok: false,
      code: 'CONSTRAINTS',
      message: 'no node that is up has the labels region=ap (2 nodes up)',
    });
  });

  it('explains a memory shortage with the largest free amount', () => {
    const nodes = [
      node('a', { allocatedMemoryBytes: 8 * GiB - 400 * MiB }),
      node('b', { allocatedMemoryBytes: 8 * GiB - 400 * MiB }),
      node('c', { allocatedMemoryBytes: 8 * GiB - 400 * MiB }),
      node('d', { allocatedMemoryBytes: 8 * GiB - 100 * MiB }),
      node('x', { status: 'down' }),
    ];
    expect(choose(req({ memoryBytes: 1 * GiB }), nodes)).toEqual({
      ok: false,
      code: 'MEMORY',
      message: 'no node has 1 GiB free memory; largest free is 400 MiB on 3 nodes (4 nodes up)',
    });
  });

  it('explains CPU, port and combined shortages', () => {
    const cpuFull = [node('a', { allocatedNanoCpus: 3.75 * CPU })];
    expect(choose(req({ nanoCpus: 0.5 * CPU }), cpuFull)).toEqual({
      ok: false,
      code: 'CPU',
      message: 'no node has 0.5 CPU free; largest free is 0.25 CPU on 1 node (1 node up)',
    });
    expect(choose(req({ ports: 3 }), [node('a', { freePorts: 2 }), node('b', { freePorts: 1 })])).toEqual({
      ok: false,
      code: 'PORTS',
      message: 'no node has 3 free ports; most free is 2 on 1 node (2 nodes up)',
    });
    const split = [
      node('mem', { allocatedNanoCpus: 4 * CPU }),
      node('cpu', { allocatedMemoryBytes: 8 * GiB }),
    ];
    expect(choose(req(), split)).toMatchObject({ ok: false, code: 'NO_SINGLE_NODE' });
    expect(choose(req(), [])).toEqual({ ok: false, code: 'NO_NODES', message: 'no node is enrolled yet' });
  });

  it('rejects a malformed request', () => {
    expect(() => choose(req({ memoryBytes: -1 }), [node('a')])).toThrow(/memoryBytes/);
    expect(() => choose(req({ nanoCpus: NaN }), [node('a')])).toThrow(/nanoCpus/);
  });
});

describe('PlacementIndex', () => {
  it('a burst sees its own reservations: spread rotates, binpack fills one node first', () => {
    const fleet = [node('a'), node('b'), node('c')];
    const spread = new PlacementIndex(fleet, { strategy: 'spread' });
    const spreadPicks = Array.from({ length: 6 }, (_, i) => spread.placeAndReserve(req({ slotId: `s${i}` })));
    expect(spreadPicks.map((r) => (r.ok ? r.nodeId : r.code))).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);

    const binpack = new PlacementIndex(fleet, { strategy: 'binpack' });
    const picks = Array.from({ length: 17 }, (_, i) => binpack.placeAndReserve(req({ slotId: `s${i}` })));
    // 8 GiB / 512 MiB = 16 slots on 'a', then 'b'.
    expect(picks.map((r) => (r.ok ? r.nodeId : r.code))).toEqual([...Array(16).fill('a'), 'b']);
    expect(binpack.get('a')).toMatchObject({
      allocatedMemoryBytes: 8 * GiB,
      allocatedNanoCpus: 4 * CPU,
      freePorts: 68,
    });
  });

  it('does not hand out more than a node has', () => {
    const index = new PlacementIndex([node('a', { allocatableMemoryBytes: 1 * GiB })]);
    expect(index.placeAndReserve(req())).toMatchObject({ ok: true, nodeId: 'a' });
    expect(index.placeAndReserve(req())).toMatchObject({ ok: true, nodeId: 'a' });
    expect(index.placeAndReserve(req())).toMatchObject({ ok: false, code: 'MEMORY' });
    expect(index.reserve('a', req())).toBe(false);
    expect(index.reserve('nope', req())).toBe(false);
  });

  it('a release makes a full node eligible again; a drained node stays out', () => {
    const index = new PlacementIndex([node('a', { allocatedMemoryBytes: 8 * GiB })], { strategy: 'binpack' });
    expect(index.place(req())).toMatchObject({ ok: false, code: 'MEMORY' });
    index.release('a', { memoryBytes: 1 * GiB, nanoCpus: 0, ports: 0 });
    expect(index.place(req())).toMatchObject({ ok: true, nodeId: 'a' });
    index.setStatus('a', 'draining');
    expect(index.place(req())).toMatchObject({ ok: false, code: 'NO_NODE_UP' });
    index.setStatus('a', 'up');
    expect(index.place(req())).toMatchObject({ ok: true, nodeId: 'a' });
    index.release('a', { memoryBytes: 100 * GiB, nanoCpus: 100 * CPU, ports: 0 });
    expect(index.get('a')).toMatchObject({ allocatedMemoryBytes: 0, allocatedNanoCpus: 0 });
  });

  it('upsert replaces a node and remove forgets it', () => {
    const index = new PlacementIndex([node('a'), node('b', { allocatedMemoryBytes: 2 * GiB })]);
    expect(index.place(req())).toMatchObject({ nodeId: 'a' });
    index.upsert(node('a', { allocatedMemoryBytes: 4 * GiB }));
    expect(index.place(req())).toMatchObject({ nodeId: 'b' });
    expect(index.remove('b')).toBe(true);
    expect(index.place(req())).toMatchObject({ nodeId: 'a' });
    expect(index.size).toBe(1);
    expect(() => index.upsert(node('c', { freePorts: -1 }))).toThrow(/freePorts/);
  });

  it('does not keep a reference to the caller objects', () => {
    const n = node('a');
    const index = new PlacementIndex([n]);
    index.reserve('a', req());
    expect(n.allocatedMemoryBytes).toBe(0);
    n.status = 'down';
    expect(index.place(req())).toMatchObject({ ok: true, nodeId: 'a' });
  });

  it('candidates(): affinity node, then strategy order, then avoided nodes, without the excluded', () => {
    const index = new PlacementIndex([
      node('a', { allocatedMemoryBytes: 1 * GiB }),
      node('b', { allocatedMemoryBytes: 3 * GiB }),
      node('c', { allocatedMemoryBytes: 2 * GiB }),
      node('d'),
      node('e', { allocatedMemoryBytes: 5 * GiB }),
      node('f', { allocatedMemoryBytes: 8 * GiB }),
    ]);
    const r = req({ affinity: { preferNodeId: 'e', avoidNodeIds: ['d'] } });
    expect(index.candidates(r, 10, { exclude: new Set(['c']) })).toEqual(['e', 'a', 'b', 'd']);
    expect(index.candidates(r, 2)).toEqual(['e', 'a']);
    expect(index.candidates(req(), 0)).toEqual([]);
    // Below the floor (128 MiB < 512 MiB): same order through the linear path.
    expect(index.candidates({ ...r, memoryBytes: 128 * MiB }, 10, { exclude: new Set(['c']) })).toEqual([
      'e',
      'a',
      'b',
      'd',
    ]);
  });

  it('answers a request smaller than its floor correctly (nodes parked as full can still take it)', () => {
    const index = new PlacementIndex(
      [
        node('a', { allocatedMemoryBytes: 8 * GiB - 256 * MiB }),
        node('b', { allocatedMemoryBytes: 8 * GiB }),
      ],
      {
        strategy: 'spread',
      },
    );
    expect(index.place(req())).toMatchObject({ ok: false, code: 'MEMORY' });
    expect(index.place(req({ memoryBytes: 256 * MiB }))).toEqual({ ok: true, nodeId: 'a', why: 'strategy' });
  });

  // The index must agree with the one-pass oracle and with a full sort, through any sequence of
  // placements, releases, status changes and capacity updates. Seeded, so a failure reproduces.
  it.each(['spread', 'binpack'] as const)(
    'agrees with place() and a full sort through random histories (%s)',
    (strategy) => {
      for (let seed = 1; seed <= 12; seed++) {
        const rand = mulberry32(seed);
        const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
        const fleet = Array.from({ length: 1 + Math.floor(rand() * 40) }, (_, i) =>
          randomNode(`n${String(i).padStart(2, '0')}`, rand),
        );
        const index = new PlacementIndex(fleet, { strategy });
        const placed: Array<{ nodeId: string; r: PlacementRequest }> = [];
        for (let step = 0; step < 400; step++) {
          const roll = rand();
          if (roll < 0.1 && placed.length > 0) {
            const [p] = placed.splice(Math.floor(rand() * placed.length), 1);
            index.release(p.nodeId, p.r);
          } else if (roll < 0.14) {
            index.setStatus(pick(fleet).id, pick<NodeStatus>(['up', 'up', 'draining', 'down']));
          } else if (roll < 0.17) {
            index.upsert(randomNode(pick(fleet).id, rand));
          } else {
            const ids = fleet.map((n) => n.id);
            const r = req({
              slotId: `s${step}`,
              memoryBytes: pick([128 * MiB, 512 * MiB, 1 * GiB, 1 * GiB + 512 * MiB, 3 * GiB]),
              nanoCpus: pick([0.1, 0.25, 0.5, 0.75, 2]) * CPU,
              ports: pick([0, 1, 2, 3]),
              affinity:
                rand() < 0.3
                  ? { preferNodeId: pick(ids), avoidNodeIds: rand() < 0.5 ? [pick(ids), pick(ids)] : [] }
                  : undefined,
              constraints: rand() < 0.2 ? { zone: pick(['a', 'b']) } : undefined,
            });
            const exclude = rand() < 0.2 ? new Set([pick(ids), pick(ids)]) : undefined;
            const before = index.nodes();
            const expected = place(r, before, { strategy, exclude });
            const ctx = `seed ${seed} step ${step}`;
            expect({ ctx, got: index.place(r, { exclude }) }).toEqual({ ctx, got: expected });
            expect({ ctx, got: index.candidates(r, 5, { exclude }) }).toEqual({
              ctx,
              got: sortedCandidates(r, before, strategy, exclude).slice(0, 5),
            });
            if (expected.ok) {
              expect(index.reserve(expected.nodeId, r)).toBe(true);
              placed.push({ nodeId: expected.nodeId, r });
            }
          }
        }
        // Nothing was ever handed out beyond a node's allocatable capacity.
        for (const n of index.nodes()) {
          if (n.status !== 'up') continue;
          expect(n.allocatedMemoryBytes).toBeLessThanOrEqual(n.allocatableMemoryBytes);
          expect(n.freePorts).toBeGreaterThanOrEqual(0);
        }
      }
    },
  );

  it('placementError() carries the readable reason as a domain error', () => {
    const result = new PlacementIndex([]).place(req());
    if (result.ok) throw new Error('expected a failure');
    const err = placementError(result);
    expect(err).toBeInstanceOf(CapacityExhaustedError);
    expect(err.message).toBe('no node is enrolled yet');
  });

  it('BASE_SLOT is the base plan', () => {
    expect(BASE_SLOT).toEqual({ memoryBytes: 512 * MiB, nanoCpus: 250_000_000, ports: 0 });
    expect(dominantShare(node('a', { allocatedMemoryBytes: 2 * GiB, allocatedNanoCpus: 3 * CPU }))).toBe(
      0.75,
    );
  });
});

/** Full scan + sort: the obvious way, written independently of placement.ts. */
function sortedCandidates(
  r: PlacementRequest,
  nodes: NodeCapacity[],
  strategy: PlacementStrategy,
  exclude?: Set<string>,
): string[] {
  const fits = nodes.filter(
    (n) =>
      n.status === 'up' &&
      !exclude?.has(n.id) &&
      n.allocatableMemoryBytes - n.allocatedMemoryBytes >= r.memoryBytes &&
      n.allocatableNanoCpus - n.allocatedNanoCpus >= r.nanoCpus &&
      n.freePorts >= r.ports &&
      Object.entries(r.constraints ?? {}).every(([k, v]) => n.labels?.[k] === v),
  );
  const share = (n: NodeCapacity) =>
    Math.max(n.allocatedMemoryBytes / n.allocatableMemoryBytes, n.allocatedNanoCpus / n.allocatableNanoCpus);
  const avoid = new Set(r.affinity?.avoidNodeIds ?? []);
  const rank = (n: NodeCapacity) => (n.id === r.affinity?.preferNodeId ? 0 : avoid.has(n.id) ? 2 : 1);
  fits.sort((a, b) => {
    if (rank(a) !== rank(b)) return rank(a) - rank(b);
    if (share(a) !== share(b)) return strategy === 'spread' ? share(a) - share(b) : share(b) - share(a);
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  return fits.map((n) => n.id);
}

function randomNode(id: string, rand: () => number): NodeCapacity {
  const memGiB = [4, 8, 16, 32][Math.floor(rand() * 4)];
  const cpus = [2, 4, 8][Math.floor(rand() * 3)];
  return node(id, {
    status: rand() < 0.85 ? 'up' : rand() < 0.5 ? 'draining' : 'down',
    allocatableMemoryBytes: memGiB * GiB,
    allocatedMemoryBytes: Math.floor(rand() * 4) * 512 * MiB,
    allocatableNanoCpus: cpus * CPU,
    allocatedNanoCpus: Math.floor(rand() * 3) * 0.25 * CPU,
    freePorts: Math.floor(rand() * 12),
    labels: { zone: rand() < 0.5 ? 'a' : 'b' },
  });
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
