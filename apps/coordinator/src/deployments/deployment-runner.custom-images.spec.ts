import { loadCustomImagesConfig } from '../custom-images/custom-images.config';
import { CustomImagesService, registryAuthPlaintext } from '../custom-images/custom-images.service';
import { secretAad } from '../secrets/secrets.service';
import { PlacementService } from '../scheduler/placement.service';
import type { CoordinatorConfig } from '../config/config.schema';
import { DeploymentBus } from './deployment-bus';
import type { DeploymentRunner } from './deployment-runner';
import { DeploymentsService } from './deployments.service';
import { FakeNodeGateway } from './fake-node-gateway';
import { SlotSecretsRepository } from './slot-secrets.repository';
import { addTestNode, newRunner, newTestSlot, openRunnerWorld, RUNNER_TEST_CUSTOM_IMAGES, RUNNER_TEST_KEY, type RunnerWorld } from './test/runner-world';

/**
 * Custom images in the deployment flow (issue 10), with the real database and an in-memory node:
 * a customer's image goes to the node with the slot's own registry credentials (never the
 * operator's, even for the same registry), the size limit and always-pull; a registry taken off
 * the allow list stops the deploy before it takes room; the node's "over the limit" is the
 * deployment's reason; a switch to a custom image that fails rolls back to the previous agent with
 * its own secrets.
 */
describe(`deployment runner: custom images (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  const REGISTRY = '127.0.0.1:5000';
  const IMAGE = `${REGISTRY}/someone/agent:1.0`;
  const OPERATOR_PASSWORD = 'operator-registry-password-never-for-customers';
  const SLOT_AUTH = { username: 'customer', password: 'customer-registry-password-42' };
  const LIMIT = 512 * 1024 * 1024;
  const settings = (image = IMAGE) => ({ image, internal_port: 9090, health_path: '/ready', env: { GREETING: 'hello' } });
  let w: RunnerWorld;
  let placement: PlacementService;
  let fake: FakeNodeGateway;
  let runner: DeploymentRunner;
  let service: DeploymentsService;
  const bus = new DeploymentBus();

  async function customSlot(withAuth: boolean, image = IMAGE) {
    const { customerId, slotId } = await newTestSlot(w, 'custom', 512, settings(image));
    if (withAuth) {
      await new SlotSecretsRepository(w.t.db).put(customerId, slotId, 'registry_auth', w.secrets.seal(registryAuthPlaintext(SLOT_AUTH), secretAad(slotId, 'registry_auth'), '…'));
    }
    return { customerId, slotId };
  }
  async function deployed(withAuth: boolean, image = IMAGE) {
    const { customerId, slotId } = await customSlot(withAuth, image);
    const d = await service.deployNew(slotId);
    await runner.idle();
    return { customerId, slotId, d, events: await w.repo.events(d.id), view: await service.get(customerId, d.id) };
  }
  const callOf = (deploymentId: string) => fake.deployCalls.find((c) => c.deploymentId === deploymentId);
  const kinds = async (customerId: string, slotId: string) => (await w.secretsRepo.findForSlot(customerId, slotId)).map((s) => s.kind as string).sort();

  beforeAll(async () => {
    w = await openRunnerWorld();
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
    placement = new PlacementService({ strategy: 'spread' });
    fake = new FakeNodeGateway();
    runner = newRunner(w, fake, placement, bus);
    service = new DeploymentsService(w.repo, runner, bus, w.keys);
    await addTestNode(w, placement, 'n1');
  });

  it("goes to the node with the slot's own credentials, never the operator's for the same registry, with the size limit and always-pull", async () => {
    await w.credentials.put(REGISTRY, 'berth', OPERATOR_PASSWORD);
    const { d, view, events } = await deployed(true);
    expect(view.status).toBe('succeeded');
    expect(callOf(d.id)).toEqual({
      nodeId: expect.any(String),
      deploymentId: d.id,
      image: IMAGE,
      registryAuth: { server: REGISTRY, ...SLOT_AUTH },
      pull: { maxImageBytes: LIMIT, alwaysPull: true },
    });
    const spec = [...fake.nodes.values()][0].get(d.slot_id)!.spec;
    expect(spec).toMatchObject({ image: IMAGE, user: '1000:1000', readOnlyRootfs: true, capAdd: [], ports: [{ name: 'http', containerPort: 9090, publish: true }], health: { path: '/ready', portName: 'http' } });
    expect(spec.env).toMatchObject({ GREETING: 'hello', PORT: '9090', ANTHROPIC_API_KEY: RUNNER_TEST_KEY });
    expect(JSON.stringify({ spec, events, view })).not.toContain(SLOT_AUTH.password);
  });

  it('a public custom image goes without credentials (the operator has some for its registry), still size-limited and always pulled', async () => {
    await w.credentials.put(REGISTRY, 'berth', OPERATOR_PASSWORD);
    const { d, view } = await deployed(false);
    expect(view.status).toBe('succeeded');
    const call = callOf(d.id)!;
    expect(call).not.toHaveProperty('registryAuth');
    expect(call.pull).toEqual({ maxImageBytes: LIMIT, alwaysPull: true });
  });

  it("a catalogue agent's deploy carries no size limit and no always-pull", async () => {
    const { customerId, slotId } = await newTestSlot(w, 'myrai');
    const d = await service.deployNew(slotId);
    await runner.idle();
    expect((await service.get(customerId, d.id)).status).toBe('succeeded');
    expect(callOf(d.id)).not.toHaveProperty('pull');
  });

  it("the node's image_over_limit ends the deployment failed with its sentence and reason; nothing is left", async () => {
    const message = `image ${IMAGE} is 900.0 MiB, over the 512.0 MiB size limit for custom images; it was removed from the node`;
    fake.pullFor = () => ({ progress: [{ layersDone: 1, layersTotal: 1, bytesDone: 10, bytesTotal: 10 }], failure: { reason: 'image_over_limit', message } });
    const { slotId, events, view } = await deployed(true);
    expect(view).toMatchObject({ status: 'failed', error: message });
    expect(events[events.length - 1]).toMatchObject({ type: 'failed', message, data: { reason: 'image_over_limit' } });
    expect((await w.repo.getSlot(slotId))!).toMatchObject({ state: 'failed', state_reason: message, published_ports: [] });
    expect(await w.t.db.prisma.node.findFirstOrThrow({ where: { name: 'n1' } })).toMatchObject({ allocated_memory_mb: 0, allocated_cpu_millis: 0 });
    expect(fake.whereIs(slotId)).toEqual([]);
  });

  it('a registry taken off the allow list after signup: the deploy fails before it takes room or reaches a node', async () => {
    const strict = new CustomImagesService(loadCustomImagesConfig({ ...RUNNER_TEST_CUSTOM_IMAGES, BERTH_CUSTOM_IMAGE_REGISTRIES: 'ghcr.io' }), {} as CoordinatorConfig, w.secretsRepo, w.secrets);
    runner = newRunner({ ...w, customImages: strict }, fake, placement, bus);
    service = new DeploymentsService(w.repo, runner, bus, w.keys);
    const { slotId, d, view } = await deployed(true);
    expect(view.status).toBe('failed');
    expect(view.error).toBe(`image ${IMAGE}: registry ${REGISTRY} is not allowed for custom images (allowed: ghcr.io)`);
    expect(callOf(d.id)).toBeUndefined();
    expect((await w.repo.getSlot(slotId))!.state).toBe('failed');
    expect(await w.t.db.prisma.node.findFirstOrThrow({ where: { name: 'n1' } })).toMatchObject({ allocated_memory_mb: 0 });
  });

  it('a switch from Myrai to a custom image that never gets healthy rolls back to Myrai, whose deploy carries nothing of the custom image', async () => {
    const { customerId, slotId } = await newTestSlot(w, 'myrai');
    await service.deployNew(slotId);
    await runner.idle();
    fake.failWhen = (spec) => spec.agentTypeId === 'custom';
    const sw = await service.switchAgent(customerId, slotId, { agent_type_id: 'custom', llm_provider_id: 'anthropic', config: settings(), registry_auth: SLOT_AUTH });
    await runner.idle();
    expect((await w.repo.get(sw.id))!.status).toBe('rolled_back');
    expect(callOf(sw.id)).toMatchObject({ image: IMAGE, registryAuth: { server: REGISTRY, ...SLOT_AUTH }, pull: { alwaysPull: true } });
    const rollback = (await w.repo.latestForSlot(slotId))!;
    expect(rollback).toMatchObject({ kind: 'rollback', status: 'succeeded' });
    expect(callOf(rollback.id)).not.toHaveProperty('registryAuth');
    expect(callOf(rollback.id)).not.toHaveProperty('pull');
    expect((await w.repo.getSlot(slotId))!).toMatchObject({ state: 'running', current_agent_type_id: 'myrai', config: {} });
    // The custom image's credentials went with the failed switch; Myrai keeps its key.
    expect(await kinds(customerId, slotId)).toEqual(['gateway_token', 'llm_key']);
  });

  it('a switch from one custom image to another: the new credentials replace the old; a failed one restores them', async () => {
    const { customerId, slotId } = await customSlot(true);
    await service.deployNew(slotId);
    await runner.idle();
    const other = { username: 'other', password: 'other-password-for-ghcr' };
    fake.failWhen = (spec) => spec.image === 'ghcr.io/someone/broken:1.0';
    const failed = await service.switchAgent(customerId, slotId, { agent_type_id: 'custom', llm_provider_id: 'anthropic', config: settings('ghcr.io/someone/broken:1.0'), registry_auth: other });
    await runner.idle();
    expect((await w.repo.get(failed.id))!.status).toBe('rolled_back');
    expect(callOf(failed.id)!.registryAuth).toEqual({ server: 'ghcr.io', ...other });
    const rollback = (await w.repo.latestForSlot(slotId))!;
    expect(rollback.status).toBe('succeeded');
    expect(callOf(rollback.id)!.registryAuth).toEqual({ server: REGISTRY, ...SLOT_AUTH });
    expect((await w.repo.getSlot(slotId))!.config).toEqual(settings());

    const ok = await service.switchAgent(customerId, slotId, { agent_type_id: 'custom', llm_provider_id: 'anthropic', config: settings('ghcr.io/someone/public:2.0'), registry_auth: null });
    await runner.idle();
    expect((await w.repo.get(ok.id))!.status).toBe('succeeded');
    expect(callOf(ok.id)).not.toHaveProperty('registryAuth');
    expect(await kinds(customerId, slotId)).not.toContain('registry_auth');
    expect(await kinds(customerId, slotId)).not.toContain('registry_auth_previous');
  });
});
