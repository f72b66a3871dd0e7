import { InvalidArgumentError, MiB, SlotDeploySpec } from '@berth/domain';
import { ImageService } from '../images/image.service';
import { createLogger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { PortPool } from '../ports/port-pool';
import { fakeDigestRef } from '../runtime/fake-images';
import { FakeRuntime } from '../runtime/fake.runtime';
import { DeployProgress, DeploymentTracker } from './deployment-tracker';
import { SlotService } from './slot.service';

/** A deploy's image step against FakeRuntime: first, reported, and leaving nothing behind when it fails. */
describe('Deploy: the image step (FakeRuntime)', () => {
  const IMAGE = '127.0.0.1:5000/team/agent:1.0';
  let runtime: FakeRuntime;
  let svc: SlotService;

  const make = (ports: [number, number] = [20000, 20009]) => {
    runtime = new FakeRuntime();
    const metrics = new NodeMetrics();
    const log = createLogger('error', 'unit');
    const images = new ImageService(runtime, metrics, { budgetBytes: 1024 ** 3, retryWindowMs: 100, stallMs: 0, backoffMs: 5 }, log);
    svc = new SlotService(
      runtime,
      new PortPool(ports[0], ports[1], '127.0.0.1', async () => true),
      metrics,
      {
        nodeId: 'unit',
        publishIp: '127.0.0.1',
        restartMaxRetries: 3,
        allocatableMemoryBytes: 4096 * MiB,
        allocatableNanoCpus: 4e9,
        reserveMemoryBytes: 0,
        reserveNanoCpus: 0,
      },
      log,
      images,
    );
    svc.dockerUp = true;
    svc.synced = true;
  };

  const spec = (slotId: string, over: Partial<SlotDeploySpec> = {}): SlotDeploySpec => ({
    deploymentId: `dep-${slotId}`,
    slotId,
    customerId: 'cust',
    agentTypeId: 'standin',
    agentVersion: '1',
    image: IMAGE,
    env: {},
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

  const run = async (t: DeploymentTracker) => {
    const events: DeployProgress[] = [];
    t.follow((p) => events.push(p));
    const end = await t.finished();
    return { events, end, phases: events.map((e) => e.phase) };
  };

  beforeEach(() => make());
  afterEach(() => svc.shutdown());

  it('pulls first, before ports are taken, and keeps the digest on the slot and its container', async () => {
    const { events, end, phases } = await run(svc.deploy(spec('s1')));
    expect(end.state).toBe('healthy');
    expect(phases.slice(0, 3)).toEqual(['accepted', 'image_pull', 'image_pull']);
    expect(phases.indexOf('image_ready')).toBeLessThan(phases.indexOf('ports_allocated'));
    const pulls = events.filter((e) => e.phase === 'image_pull');
    expect(pulls[pulls.length - 1].pull).toEqual({ layersDone: 2, layersTotal: 2, bytesDone: 10000, bytesTotal: 10000 });
    expect(pulls[pulls.length - 1].message).toMatch(/2\/2 layers, 9\.8 KiB of 9\.8 KiB/);
    const digest = fakeDigestRef(IMAGE);
    expect(events.find((e) => e.phase === 'image_ready')!.message).toMatch(new RegExp(`pulled in .* \\(${digest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)`));
    expect(svc.get('s1').imageDigest).toBe(digest);
    expect(svc.get('s1').handle!.imageDigest).toBe(digest);
    expect([...runtime.containers.values()][0].handle.imageDigest).toBe(digest);
  });

  it('uses a cached image without a pull and says so', async () => {
    runtime.images.add(IMAGE);
    const { end, phases, events } = await run(svc.deploy(spec('s2')));
    expect(end.state).toBe('healthy');
    expect(phases).not.toContain('image_pull');
    expect(events.find((e) => e.phase === 'image_ready')!.message).toMatch(/cached on this node/);
    expect(runtime.images.pulls).toEqual([]);
  });

  it('refuses an unpinned image at once', () => {
    expect(() => svc.deploy(spec('s3', { image: 'team/agent:latest' }))).toThrow(InvalidArgumentError);
    expect(svc.slots.has('s3')).toBe(false);
  });

  it('a failed pull ends the deployment failed with its reason and leaves nothing behind', async () => {
    runtime.images.failNextPull('not_found', 'manifest unknown');
    const { end } = await run(svc.deploy(spec('s4')));
    expect(end).toMatchObject({ final: true, phase: 'failed', state: 'failed', failureReason: 'image_not_found' });
    expect(end.message).toMatch(/^image 127\.0\.0\.1:5000\/team\/agent:1\.0 not found/);
    expect(svc.get('s4').message).toBe(end.message);
    expect(svc.pool.free).toBe(svc.pool.total);
    expect(runtime.containers.size).toBe(0);
    expect(runtime.networks.size).toBe(0);
    expect(runtime.calls).toEqual([]);
    expect(svc.capacity().allocatedMemoryBytes).toBe(0);
  });

  it('a switch whose new image cannot be pulled leaves the running agent alone', async () => {
    expect((await svc.deploy(spec('s5')).finished()).state).toBe('healthy');
    const old = svc.get('s5');
    const ports = old.ports.map((p) => p.hostPort);
    runtime.images.failNextPull('unauthorized', 'unauthorized: authentication required');
    const { end } = await run(svc.deploy(spec('s5', { deploymentId: 'dep-s5b', image: `${IMAGE}-b` }), true));
    expect(end).toMatchObject({ state: 'failed', failureReason: 'registry_auth' });
    expect(svc.get('s5')).toBe(old);
    expect(old).toMatchObject({ deploymentId: 'dep-s5', state: 'healthy' });
    expect(old.ports.map((p) => p.hostPort)).toEqual(ports);
    expect(runtime.calls.filter((c) => c.startsWith('destroy'))).toEqual([]);
    expect(runtime.containers.size).toBe(1);
    expect(svc.pool.free).toBe(svc.pool.total - 2);
    // Terminating right after such a switch terminates the agent that still runs.
    runtime.images.failNextPull('not_found');
    const t = svc.deploy(spec('s5', { deploymentId: 'dep-s5c', image: `${IMAGE}-c` }), true);
    await svc.terminate('s5');
    expect((await t.finished()).failureReason).toBe('image_not_found');
    expect(svc.slots.has('s5')).toBe(false);
    expect(runtime.containers.size).toBe(0);
    expect(svc.pool.free).toBe(svc.pool.total);
  });

  it('counts the ports of deployments still pulling as taken', async () => {
    make([20000, 20003]);
    const release = runtime.images.holdPulls();
    const a = svc.deploy(spec('a'));
    const b = svc.deploy(spec('b'));
    expect(() => svc.deploy(spec('c'))).toThrow(/port pool exhausted: 2 port\(s\) needed, 0 free/);
    release();
    expect((await a.finished()).state).toBe('healthy');
    expect((await b.finished()).state).toBe('healthy');
    expect(runtime.images.pulls).toEqual([IMAGE]);
  });
});
