import { CapacityExhaustedError } from '@berth/domain';
import { ConfigError } from '@berth/config';
import { Test } from '@nestjs/testing';
import { NodeCapacity, PlacementRequest } from './placement';
import { PlacementService } from './placement.service';
import { loadSchedulerConfig } from './scheduler.config';
import { EnvModule } from '../config/env.module';
import { SchedulerModule } from './scheduler.module';

const GiB = 1024 ** 3;
const node = (id: string, over: Partial<NodeCapacity> = {}): NodeCapacity => ({
  id,
  status: 'up',
  allocatableMemoryBytes: 4 * GiB,
  allocatedMemoryBytes: 0,
  allocatableNanoCpus: 2e9,
  allocatedNanoCpus: 0,
  freePorts: 10,
  ...over,
});
const req: PlacementRequest = { slotId: 's', memoryBytes: GiB, nanoCpus: 0.5e9, ports: 1 };

describe('scheduler config', () => {
  it('defaults to spread and accepts binpack', () => {
    expect(loadSchedulerConfig({})).toEqual({ strategy: 'spread' });
    expect(loadSchedulerConfig({ BERTH_SCHEDULER_STRATEGY: 'binpack' })).toEqual({ strategy: 'binpack' });
  });

  it('fails naming the variable', () => {
    expect(() => loadSchedulerConfig({ BERTH_SCHEDULER_STRATEGY: 'random' })).toThrow(ConfigError);
    expect(() => loadSchedulerConfig({ BERTH_SCHEDULER_STRATEGY: 'random' })).toThrow(
      /BERTH_SCHEDULER_STRATEGY: .*"random"/,
    );
  });
});

describe('SchedulerModule / PlacementService', () => {
  async function service(strategy?: string): Promise<PlacementService> {
    const env = strategy === undefined ? {} : { BERTH_SCHEDULER_STRATEGY: strategy };
    const moduleRef = await Test.createTestingModule({ imports: [EnvModule.forRoot(env), SchedulerModule] }).compile();
    return moduleRef.get(PlacementService);
  }

  it('takes its strategy from BERTH_SCHEDULER_STRATEGY', async () => {
    const spread = await service();
    spread.syncNodes([node('a', { allocatedMemoryBytes: GiB }), node('b')]);
    expect(spread.strategy).toBe('spread');
    expect(spread.placeAndReserveOrThrow(req)).toBe('b');

    const binpack = await service('binpack');
    binpack.syncNodes([node('a', { allocatedMemoryBytes: GiB }), node('b')]);
    expect(binpack.strategy).toBe('binpack');
    expect(binpack.placeAndReserveOrThrow(req)).toBe('a');
  });

  it('refuses to boot with a bad strategy', async () => {
    await expect(service('roundrobin')).rejects.toThrow(/BERTH_SCHEDULER_STRATEGY/);
  });

  it('syncNodes forgets nodes no longer listed; a failure throws the readable reason', async () => {
    const s = await service();
    s.syncNodes([node('a'), node('b')]);
    s.syncNodes([node('b', { allocatedMemoryBytes: 4 * GiB })]);
    expect(s.listNodes().map((n) => n.id)).toEqual(['b']);
    expect(() => s.placeAndReserveOrThrow(req)).toThrow(CapacityExhaustedError);
    expect(() => s.placeAndReserveOrThrow(req)).toThrow(
      'no node has 1 GiB free memory; largest free is 0 MiB on 1 node (1 node up)',
    );
  });

  it('a lost database race: release, refresh, exclude, retry lands elsewhere', async () => {
    const s = await service();
    s.syncNodes([node('a'), node('b', { allocatedMemoryBytes: GiB })]);
    const first = s.placeAndReserve(req);
    expect(first).toMatchObject({ ok: true, nodeId: 'a' });
    // The database says 'a' is full after all (another coordinator took it).
    s.abandon('a', req);
    s.upsertNode(node('a', { allocatedMemoryBytes: 4 * GiB }));
    expect(s.placeAndReserve(req, { exclude: new Set(['a']) })).toMatchObject({ ok: true, nodeId: 'b' });
    expect(s.getNode('b')).toMatchObject({ allocatedMemoryBytes: 2 * GiB });
  });

  it('a refresh from the database keeps placements it does not show yet, until they are confirmed', async () => {
    const s = await service();
    s.syncNodes([node('a'), node('b')]);
    expect(s.placeAndReserve(req)).toMatchObject({ ok: true, nodeId: 'a' });
    // A heartbeat brings a's row before the reservation is committed: 'a' must not look empty again.
    s.upsertNode(node('a'));
    expect(s.getNode('a')).toMatchObject({ allocatedMemoryBytes: GiB });
    expect(s.placeAndReserve(req)).toMatchObject({ ok: true, nodeId: 'b' });
    // Committed: the rows include them now, and nothing is counted twice.
    s.confirm('a', req);
    s.confirm('b', req);
    s.upsertNode(node('a', { allocatedMemoryBytes: GiB }));
    s.upsertNode(node('b', { allocatedMemoryBytes: GiB }));
    expect(s.getNode('a')).toMatchObject({ allocatedMemoryBytes: GiB });
    expect(s.getNode('b')).toMatchObject({ allocatedMemoryBytes: GiB });
  });
});
