import { CapacityExhaustedError, FailedPreconditionError, MiB, SlotDeploySpec } from '@berth/domain';
import { createLogger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { PortPool } from '../ports/port-pool';
import { FakeRuntime } from '../runtime/fake.runtime';
import { DeployProgress } from './deployment-tracker';
import { SlotService } from './slot.service';

/** The slot service's rules against FakeRuntime: no Docker, no network (ports are never bound). */
describe('SlotService rules (FakeRuntime)', () => {
  let runtime: FakeRuntime;
  let svc: SlotService;
  const logs: string[] = [];

  const make = (opts: { memory?: number; ports?: [number, number] } = {}) => {
    runtime = new FakeRuntime();
    const [from, to] = opts.ports ?? [20000, 20009];
    svc = new SlotService(
      runtime,
      new PortPool(from, to, '127.0.0.1', async () => true),
      new NodeMetrics(),
      {
        nodeId: 'unit',
        publishIp: '127.0.0.1',
        restartMaxRetries: 3,
        allocatableMemoryBytes: opts.memory ?? 1024 * MiB,
        allocatableNanoCpus: 4e9,
        reserveMemoryBytes: 0,
        reserveNanoCpus: 0,
      },
      createLogger('debug', 'unit', (l) => logs.push(l)),
    );
    svc.dockerUp = true;
    svc.synced = true;
  };

  // No health check: "running" counts as healthy, so no HTTP probe is involved.
  const spec = (slotId: string, over: Partial<SlotDeploySpec> = {}): SlotDeploySpec => ({
    deploymentId: `dep-${slotId}`,
    slotId,
    customerId: 'cust',
    agentTypeId: 'standin',
    agentVersion: '1',
    image: 'berth-test/standin:unit',
    env: { OPENAI_API_KEY: 'sk-unit-secret' },
    ports: [
      { name: 'gateway', containerPort: 18789, publish: true },
      { name: 'bridge', containerPort: 18790, publish: true },
    ],
    resources: { memoryBytes: 256 * MiB, nanoCpus: 250_000_000, pidsLimit: 64 },
    dataMountPath: '/data',
    files: [],
    readOnlyRootfs: true,
    capAdd: [],
    ...over,
  });

  const events = (t: { follow(cb: (p: DeployProgress) => void): () => void }) => {
    const out: DeployProgress[] = [];
    t.follow((p) => out.push(p));
    return out;
  };

  beforeEach(() => {
    logs.length = 0;
    make();
  });
  afterEach(() => svc.shutdown());

  it('a repeated Deploy with the same deployment id follows the first: one start, one container', async () => {
    const a = svc.deploy(spec('s1'));
    const b = svc.deploy(spec('s1'));
    expect(b).toBe(a);
    const end = await a.finished();
    expect(end).toMatchObject({ final: true, state: 'healthy' });
    const again = svc.deploy(spec('s1'));
    expect((await again.finished()).state).toBe('healthy');
    expect(runtime.calls.filter((c) => c.startsWith('start'))).toEqual(['start s1 dep-s1']);
    expect(runtime.containers.size).toBe(1);
    expect(logs.join('\n')).not.toContain('sk-unit-secret');
  });

  it('a failed start gives its ports back, ends failed with the reason, and removes what it made', async () => {
    runtime.failNextStart = new Error('image berth-test/nope not found');
    const t = svc.deploy(spec('s2'));
    const seen = events(t);
    const end = await t.finished();
    expect(end).toMatchObject({ final: true, state: 'failed', phase: 'failed' });
    expect(end.message).toMatch(/image berth-test\/nope not found/);
    expect(seen[seen.length - 1]).toBe(end);
    expect(svc.pool.free).toBe(svc.pool.total);
    expect(runtime.containers.size).toBe(0);
    expect(svc.capacity().allocatedMemoryBytes).toBe(0);
    // The slot can be deployed again (a new deployment id) and gets ports.
    expect((await svc.deploy(spec('s2', { deploymentId: 'dep-s2b' })).finished()).state).toBe('healthy');
    expect(svc.pool.free).toBe(svc.pool.total - 2);
  });

  it('a container that exits before it is healthy ends the deploy failed and frees its ports', async () => {
    runtime.exitOnStart = 3;
    const end = await svc.deploy(spec('s3')).finished();
    expect(end).toMatchObject({ final: true, state: 'failed' });
    expect(end.message).toMatch(/exited with code 3/);
    // What the agent printed before it gave up is in the reason (read before the container went).
    expect(end.message).toMatch(/exited with code 3; last log lines:\nfake log line$/);
    expect(svc.pool.free).toBe(svc.pool.total);
    expect(runtime.containers.size).toBe(0);
  });

  it('refuses what does not fit: memory, CPU and an occupied slot without replace', async () => {
    make({ memory: 512 * MiB });
    await svc.deploy(spec('a')).finished();
    await svc.deploy(spec('b')).finished();
    expect(() => svc.deploy(spec('c'))).toThrow(CapacityExhaustedError);
    expect(() => svc.deploy(spec('c'))).toThrow(/not enough memory/);
    expect(() =>
      svc.deploy(spec('c', { resources: { memoryBytes: 0.25 * 512 * MiB, nanoCpus: 4e9, pidsLimit: 64 } })),
    ).toThrow(/not enough memory|not enough CPU/);
    expect(svc.slots.has('c')).toBe(false);
    expect(() => svc.deploy(spec('a', { deploymentId: 'dep-a2' }))).toThrow(FailedPreconditionError);
    // With replace=true the old deployment's resources count as freed: it fits.
    const r = await svc.deploy(spec('a', { deploymentId: 'dep-a2' }), true).finished();
    expect(r.state).toBe('healthy');
    expect(runtime.containers.size).toBe(2);
    expect(runtime.calls).toContain('destroy a');
  });

  it('refuses a deploy when the port pool is empty, but a replace reuses the old ports', async () => {
    make({ ports: [20000, 20003] });
    await svc.deploy(spec('a')).finished();
    await svc.deploy(spec('b')).finished();
    expect(svc.pool.free).toBe(0);
    expect(() => svc.deploy(spec('c'))).toThrow(/port pool exhausted/);
    const r = await svc.deploy(spec('b', { deploymentId: 'dep-b2' }), true).finished();
    expect(r.state).toBe('healthy');
    expect(svc.pool.free).toBe(0);
    expect(new Set(svc.list().flatMap((s) => s.ports.map((p) => p.hostPort))).size).toBe(4);
  });

  it('a stale inspect answer cannot bring a failed deploy back to starting (the crash-deploy race)', async () => {
    const t = svc.deploy(spec('race'));
    // Wait until the container is started and probing begins.
    await new Promise<void>((resolve) => {
      const off = t.follow((p) => p.phase === 'starting' && (queueMicrotask(() => off()), resolve()));
    });
    const rec = svc.get('race');
    const containerId = rec.handle!.containerId;
    // A reconciler refresh asks Docker while the container still runs; its answer is slow.
    const release = runtime.holdNextInspect();
    const refresh = svc.refresh('race');
    // Meanwhile the container crashes and the deploy's prober fails and cleans the slot.
    runtime.setState(containerId, 'exited', 3);
    const end = await t.finished();
    expect(end).toMatchObject({ final: true, state: 'failed' });
    release();
    await refresh;
    expect(svc.get('race').state).toBe('failed');
    expect(svc.get('race').handle).toBeUndefined();
    expect(t.history[t.history.length - 1]).toBe(end);
  });
});
