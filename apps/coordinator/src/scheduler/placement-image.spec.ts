import { NodeCapacity, PlacementIndex, PlacementRequest, PlacementStrategy, place } from './placement';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const CPU = 1e9;
const IMG = 'registry.example.com/agents/myrai:1.0';

function node(id: string, over: Partial<NodeCapacity> = {}): NodeCapacity {
  return { id, status: 'up', allocatableMemoryBytes: 8 * GiB, allocatedMemoryBytes: 0, allocatableNanoCpus: 4 * CPU, allocatedNanoCpus: 0, freePorts: 100, labels: {}, ...over };
}

function req(over: Partial<PlacementRequest> = {}): PlacementRequest {
  return { slotId: 's1', memoryBytes: 512 * MiB, nanoCpus: 0.25 * CPU, ports: 2, ...over };
}

const withImage = (n: NodeCapacity): NodeCapacity => ({ ...n, images: new Set([IMG]) });

/** The index and the one-pass oracle, each asked the same. */
function both(nodes: NodeCapacity[], strategy: PlacementStrategy, r: PlacementRequest): string[] {
  const index = new PlacementIndex(nodes, { strategy });
  const a = index.place(r);
  const b = place(r, nodes, { strategy });
  expect(a).toEqual(b);
  return a.ok ? [a.nodeId] : [];
}

describe('placement prefers a node that has the image when shares are equal', () => {
  it.each<PlacementStrategy>(['spread', 'binpack'])('%s: equal shares go to the node with the image, whatever its id', (strategy) => {
    const nodes = [node('a'), node('b'), withImage(node('c'))];
    expect(both(nodes, strategy, req())).toEqual(['a']); // no image asked: share, then id, as ever
    expect(both(nodes, strategy, req({ image: IMG }))).toEqual(['c']);
    expect(both(nodes, strategy, req({ image: 'other:1.0' }))).toEqual(['a']);
  });

  it('share still decides first: the image only breaks ties', () => {
    const loaded = withImage(node('a', { allocatedMemoryBytes: 1 * GiB }));
    expect(both([loaded, node('b')], 'spread', req({ image: IMG }))).toEqual(['b']);
    expect(both([loaded, node('b')], 'binpack', req({ image: IMG }))).toEqual(['a']);
    expect(both([node('a', { allocatedMemoryBytes: 1 * GiB }), withImage(node('b'))], 'binpack', req({ image: IMG }))).toEqual(['a']);
  });

  it('affinity, exclusions, constraints and room come before the image; avoided nodes stay last', () => {
    const nodes = [node('a'), withImage(node('b', { labels: { zone: 'x' } })), withImage(node('c', { freePorts: 0 }))];
    expect(both(nodes, 'spread', req({ image: IMG, affinity: { preferNodeId: 'a' } }))).toEqual(['a']);
    expect(both(nodes, 'spread', req({ image: IMG, constraints: { zone: 'y' } }))).toEqual([]);
    expect(both(nodes, 'spread', req({ image: IMG, affinity: { avoidNodeIds: ['b'] } }))).toEqual(['a']);
    expect(both([node('a'), withImage(node('b'))], 'spread', req({ image: IMG, affinity: { avoidNodeIds: ['a', 'b'] } }))).toEqual(['b']);
    const index = new PlacementIndex(nodes);
    expect(index.place(req({ image: IMG }), { exclude: new Set(['b']) })).toMatchObject({ ok: true, nodeId: 'a' });
  });

  it('candidates: within each share, nodes with the image first; the order is unchanged without one', () => {
    const nodes = [node('a'), withImage(node('b')), node('c'), withImage(node('d')), withImage(node('e', { allocatedMemoryBytes: 2 * GiB }))];
    const index = new PlacementIndex(nodes);
    expect(index.candidates(req(), 5)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(index.candidates(req({ image: IMG }), 5)).toEqual(['b', 'd', 'a', 'c', 'e']);
    expect(index.candidates(req({ image: IMG }), 2)).toEqual(['b', 'd']);
    expect(index.candidates(req({ image: IMG }), 3)).toEqual(['b', 'd', 'a']);
    // Below the floor: the ranked scan applies the same rule.
    expect(index.candidates(req({ image: IMG, memoryBytes: 128 * MiB }), 5)).toEqual(['b', 'd', 'a', 'c', 'e']);
  });

  it('setImage records and forgets an image; a capacity report keeps what the index knows', () => {
    const index = new PlacementIndex([node('a'), node('b')]);
    expect(index.place(req({ image: IMG }))).toMatchObject({ nodeId: 'a' });
    expect(index.setImage('b', IMG, true)).toBe(true);
    expect(index.place(req({ image: IMG }))).toMatchObject({ nodeId: 'b' });
    index.upsert(node('b', { allocatedMemoryBytes: 0 })); // a heartbeat: no images in it
    expect(index.place(req({ image: IMG }))).toMatchObject({ nodeId: 'b' });
    expect(index.get('b')?.images).toEqual(new Set([IMG]));
    expect(index.get('a')).not.toHaveProperty('images');
    index.setImage('b', IMG, false);
    expect(index.place(req({ image: IMG }))).toMatchObject({ nodeId: 'a' });
    expect(index.setImage('zz', IMG, true)).toBe(false);
  });

  it('the index gives the oracle answer over seeded random fleets with images and a burst of placements', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (const strategy of ['spread', 'binpack'] as PlacementStrategy[]) {
      for (let round = 0; round < 40; round++) {
        const nodes: NodeCapacity[] = [];
        for (let i = 0; i < 30; i++) {
          const n = node(`n${String(i).padStart(2, '0')}`, { allocatedMemoryBytes: Math.floor(rnd() * 4) * GiB, status: rnd() < 0.1 ? 'down' : 'up' });
          nodes.push(rnd() < 0.3 ? withImage(n) : n);
        }
        const index = new PlacementIndex(nodes, { strategy });
        for (let k = 0; k < 20; k++) {
          const r = req({ slotId: `s${k}`, image: rnd() < 0.8 ? IMG : undefined, affinity: rnd() < 0.2 ? { avoidNodeIds: [`n0${Math.floor(rnd() * 10)}`] } : undefined });
          const expected = place(r, index.nodes(), { strategy });
          const got = index.placeAndReserve(r);
          expect(got).toEqual(expected);
        }
      }
    }
  });
});
