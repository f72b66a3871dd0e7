import type { AgentTypeRecord } from '../registry/registry.types';
import { PlacementService } from '../scheduler/placement.service';
import { DeploymentBus } from './deployment-bus';
import type { DeploymentRunner } from './deployment-runner';
import { DeploymentsService } from './deployments.service';
import { FakeNodeGateway, type FakePull } from './fake-node-gateway';
import type { ImageFailureReason, ImagePull } from './node-gateway';
import { digestOf } from './runner/images';
import { addTestNode, newRunner, newTestSlot, openRunnerWorld, type RunnerWorld } from './test/runner-world';

/**
 * Agent images in the deployment flow (issue 9), with the real database and an in-memory node:
 * the registry's stored credentials go with the deploy, the node's pull progress and failure
 * reasons become the deployment's events, the digest it ran is recorded, and a re-pushed tag is
 * reported to the admin.
 */
describe(`deployment runner: images (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  const REGISTRY = '127.0.0.1:5000';
  const PRIVATE_IMAGE = `${REGISTRY}/team/myrai:1.0`;
  const PASSWORD = 'registry-password-DoNotLeak-42';
  const DIGEST_A = `sha256:${'a'.repeat(64)}`;
  const DIGEST_B = `sha256:${'b'.repeat(64)}`;
  let w: RunnerWorld;
  let myrai: AgentTypeRecord;
  let placement: PlacementService;
  let fake: FakeNodeGateway;
  let runner: DeploymentRunner;
  let service: DeploymentsService;
  const bus = new DeploymentBus();

  const pulled = (digest: string, steps = 4): FakePull => ({
    progress: Array.from({ length: steps + 1 }, (_, i): ImagePull => ({ layersDone: i, layersTotal: steps, bytesDone: i * 1000, bytesTotal: steps * 1000 })),
    digest,
  });

  /** Signs a slot up and runs its first deployment to the end. */
  async function deployed(agent = 'myrai', config: Record<string, unknown> = {}) {
    const { customerId, slotId } = await newTestSlot(w, agent, 512, config);
    const d = await service.deployNew(slotId);
    await runner.idle();
    return { customerId, slotId, d, events: await w.repo.events(d.id), view: await service.get(customerId, d.id) };
  }

  beforeAll(async () => {
    w = await openRunnerWorld();
    myrai = (await w.registry.findAgentType('myrai'))!;
  });

  afterAll(async () => {
    runner?.onApplicationShutdown();
    await w?.t.drop();
  });

  beforeEach(async () => {
    runner?.onApplicationShutdown();
    const db = w.t.db.prisma;
    await db.deployment.deleteMany({});
    await db.slot.updateMany({ data: { node_id: null } });
    await db.node.deleteMany({});
    await db.registryCredential.deleteMany({});
    await db.imageDigest.deleteMany({});
    await db.auditEvent.deleteMany({});
    await w.registry.patchAgentType('myrai', { base_image: PRIVATE_IMAGE });
    placement = new PlacementService({ strategy: 'spread' });
    fake = new FakeNodeGateway();
    runner = newRunner(w, fake, placement, bus);
    service = new DeploymentsService(w.repo, runner, bus, w.keys);
    await addTestNode(w, placement, 'n1');
  });

  afterEach(async () => {
    await w.registry.patchAgentType('myrai', { base_image: myrai.base_image! });
  });

  it("a deploy of an image on a registry with stored credentials carries them, and nothing else shows them", async () => {
    await w.credentials.put(REGISTRY, 'berth', PASSWORD);
    const { d, events, view } = await deployed();
    expect(view.status).toBe('succeeded');
    expect(fake.deployCalls.find((c) => c.deploymentId === d.id)!.registryAuth).toEqual({ server: REGISTRY, username: 'berth', password: PASSWORD });
    expect(JSON.stringify({ events, view, row: await w.t.db.prisma.deployment.findUnique({ where: { id: d.id } }) })).not.toContain(PASSWORD);
  });

  it('a public image, or an image the customer named on that registry, carries no credentials', async () => {
    await w.credentials.put(REGISTRY, 'berth', PASSWORD);
    const nanobot = await deployed('nanobot');
    expect(nanobot.view.status).toBe('succeeded');
    // Bring-your-own image: the operator's credentials never pull a customer's choice.
    const custom = await deployed('custom', { image: `${REGISTRY}/team/private:1.0` });
    expect(custom.view.status).toBe('succeeded');
    for (const { d } of [nanobot, custom]) expect(fake.deployCalls.find((c) => c.deploymentId === d.id)).not.toHaveProperty('registryAuth');
  });

  it('image_pull progress becomes image_pull events with its numbers (thinned), then image_ready; the deployment records the digest', async () => {
    fake.pullFor = () => pulled(DIGEST_A, 40);
    const { events, view } = await deployed();
    const types = events.map((e) => e.type);
    expect(types.filter((x) => x !== 'image_pull')).toEqual(['scheduled', 'image', 'image_ready', 'creating', 'starting', 'healthy', 'succeeded']);
    const pulls = events.filter((e) => e.type === 'image_pull');
    expect(pulls.length).toBeGreaterThanOrEqual(2);
    expect(pulls.length).toBeLessThan(10); // 41 reports, at most one stored per 500 ms besides the last
    expect(pulls[0].data).toEqual({ layers_done: 0, layers_total: 40, bytes_done: 0, bytes_total: 40_000 });
    expect(pulls[pulls.length - 1].data).toEqual({ layers_done: 40, layers_total: 40, bytes_done: 40_000, bytes_total: 40_000 });
    expect(types.indexOf('image_ready')).toBeGreaterThan(types.lastIndexOf('image_pull'));
    expect(view.image_digest).toBe(DIGEST_A);
  });

  it.each<[ImageFailureReason, string]>([
    ['image_not_found', `image ${PRIVATE_IMAGE} not found in registry ${REGISTRY}`],
    ['registry_auth', `registry ${REGISTRY} refused the credentials for ${PRIVATE_IMAGE}`],
    ['registry_unreachable', `registry ${REGISTRY} could not be reached`],
    ['image_too_large', `image ${PRIVATE_IMAGE} does not fit the node's image budget`],
  ])('a pull failing with %s: its sentence is the state_reason and the failed event, the reason in its data; nothing is left', async (reason, message) => {
    fake.pullFor = () => ({ progress: [{ layersDone: 0, layersTotal: 2, bytesDone: 0, bytesTotal: 10 }], failure: { reason, message } });
    const { slotId, events, view } = await deployed();
    expect(view).toMatchObject({ status: 'failed', error: message, image_digest: null });
    expect(events[events.length - 1]).toMatchObject({ type: 'failed', message, data: { reason } });
    expect(events.map((e) => e.type)).not.toContain('not_healthy');
    expect((await w.repo.getSlot(slotId))!).toMatchObject({ state: 'failed', state_reason: message, published_ports: [] });
    expect(await w.t.db.prisma.node.findFirstOrThrow({ where: { name: 'n1' } })).toMatchObject({ allocated_memory_mb: 0, allocated_cpu_millis: 0 });
    expect(fake.whereIs(slotId)).toEqual([]);
  });

  it('a tag that names another digest than when first deployed is reported to the admin, once', async () => {
    const view = async () => (await w.digests.forAgentTypes(await w.registry.listAgentTypes())).find((a) => a.id === 'myrai')!;
    const changes = () => w.t.db.prisma.auditEvent.findMany({ where: { action: 'agent_type.image_digest_changed' } });

    fake.pullFor = () => pulled(DIGEST_A);
    await deployed();
    await deployed();
    expect(await view()).toMatchObject({ base_image: PRIVATE_IMAGE, image_digest: DIGEST_A, image_digest_changed: null });
    expect(await changes()).toEqual([]);

    fake.pullFor = () => pulled(DIGEST_B);
    const moved = await deployed();
    expect(moved.view).toMatchObject({ status: 'succeeded', image_digest: DIGEST_B });
    expect((await view()).image_digest_changed).toEqual({ from: DIGEST_A, to: DIGEST_B, at: expect.any(String) });
    await deployed();
    const audit = await changes();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor: 'system', target_type: 'agent_type', target_id: 'myrai', data: { image: PRIVATE_IMAGE, from: DIGEST_A, to: DIGEST_B, deployment_id: moved.d.id } });

    // Pinned by digest: a reference of its own, with nothing to report.
    const pinned = `${REGISTRY}/team/myrai@${DIGEST_B}`;
    await w.registry.patchAgentType('myrai', { base_image: pinned });
    await deployed();
    expect(await view()).toMatchObject({ base_image: pinned, image_digest: DIGEST_B, image_digest_changed: null });
  });

  it('reads the digest out of what the node reports', () => {
    expect(digestOf(`${REGISTRY}/team/myrai@${DIGEST_A}`)).toBe(DIGEST_A);
    expect(digestOf(DIGEST_A)).toBe(DIGEST_A);
    expect(digestOf('')).toBeNull();
    expect(digestOf(undefined)).toBeNull();
    expect(digestOf('berth-test/local:1')).toBeNull();
  });
});
