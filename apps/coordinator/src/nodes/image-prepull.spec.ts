import { coreTestModule } from '../testing/core-test.module';
import { EventEmitter } from 'node:events';
import { randomBytes, randomUUID } from 'node:crypto';
import { type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { NodeAgentClient, NodeEvent } from '@berth/proto';
import { AdminModule } from '../admin/admin.module';
import { AuditModule } from '../audit/audit.repository';
import { AuthModule } from '../auth/auth.module';
import { DomainErrorFilter } from '../common/domain-error.filter';
import { EnvModule } from '../config/env.module';
import { DatabaseModule } from '../database/database.module';
import { createTestDatabase, type TestDatabase } from '../database/test-database';
import { FakeNodeGateway } from '../deployments/fake-node-gateway';
import { ImagesModule } from '../images/images.module';
import { RegistryCredentialsService } from '../images/registry-credentials.service';
import { RegistryService } from '../registry/registry.service';
import { SecretsService } from '../secrets/secrets.service';
import { FleetService, nodeTokenAad } from './fleet.service';
import { ImagePrePullService } from './image-prepull.service';
import { NODE_TRANSPORT, type NodeTransport } from './node-connection';
import { NODE_IMAGE_CALLS } from './node-image-calls';
import { NodeImagesModule } from './node-images.module';
import { NodesModule } from './nodes.module';
import { NodesRepository } from './nodes.repository';

const FP = 'AA:BB:' + '00:'.repeat(29) + 'CC';

class FakeStream extends EventEmitter {
  cancel() {
    this.emit('error', Object.assign(new Error('cancelled'), { code: 1 }));
  }
}

/**
 * Pre-pull (issue 9) with the fake node gateway and a real database (PGlite, or PostgreSQL when
 * DATABASE_URL is set): a node's first synced heartbeat makes it keep and pull the active
 * catalogue's images, an admin patch that activates an agent type or changes an active one's
 * image makes every up node pull it, each pull carries its registry's credential, failures are
 * recorded, and GET /api/admin/nodes(/:id) shows it all.
 */
describe(`image pre-pull (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
  let tdb: TestDatabase;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  let fake: FakeNodeGateway;
  let prePull: ImagePrePullService;
  let fleet: FleetService;
  /** The WatchEvents stream of each node, by address. */
  const streams = new Map<string, FakeStream>();
  const auth = { authorization: `Bearer ${ADMIN}` };

  const transport: NodeTransport = {
    fetchCertificate: async () => ({ pem: 'PEM', fingerprintSha256: FP }),
    createClient: (address) =>
      ({
        watchEvents: () => {
          const s = new FakeStream();
          streams.set(address, s);
          return s;
        },
        close: () => undefined,
      }) as unknown as NodeAgentClient,
  };

  const heartbeat = (address: string, synced: boolean, imageBytes = 123_456_789) => {
    const capacity = {
      allocatableMemoryBytes: 4 * 1024 ** 3,
      allocatableNanoCpus: 2e9,
      allocatedMemoryBytes: 0,
      allocatedNanoCpus: 0,
      freeMemoryBytes: 4 * 1024 ** 3,
      freeNanoCpus: 2e9,
      slotsByState: {},
      portsTotal: 100,
      portsFree: 100,
      dockerUp: true,
    };
    const ev: NodeEvent = { event: { $case: 'heartbeat', value: { nodeId: address, atMs: Date.now(), capacity, synced, imageBytes } } };
    streams.get(address)!.emit('data', ev);
  };

  /** A node in the table, connected through the fake transport. */
  async function addNode(name: string): Promise<{ id: string; address: string }> {
    const id = randomUUID();
    const address = `${name}:7443`;
    const s = app.get(SecretsService).seal('node-token', nodeTokenAad(id));
    const node = await app.get(NodesRepository).create({
      id,
      name,
      address,
      certFingerprint: FP,
      sealedToken: { ciphertext: s.ciphertext, iv: s.iv, tag: s.tag, keyId: s.key_id },
      allocatableMemoryMb: 4096,
      allocatableCpuMillis: 2000,
    });
    await fleet.connect(node);
    await waitFor(() => streams.has(address));
    return { id, address };
  }

  async function waitFor(ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
    const until = Date.now() + ms;
    while (!(await ok())) {
      if (Date.now() > until) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** The agent types whose own image the nodes keep: active, and not the custom agent (its customers name their images). */
  const activeImages = async () =>
    [...new Set((await app.get(RegistryService).listAgentTypes()).filter((a) => a.is_active && a.base_image && a.id !== 'custom').map((a) => a.base_image as string))].sort();

  beforeAll(async () => {
    tdb = await createTestDatabase();
    fake = new FakeNodeGateway();
    const Core = coreTestModule({ adminToken: ADMIN, catalogue: true });
    const moduleRef = await Test.createTestingModule({
      imports: [Core, EnvModule.forRoot({}), DatabaseModule.forDatabase(tdb.db), AuditModule, AuthModule, ImagesModule, AdminModule, NodesModule, NodeImagesModule],
      providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
    })
      .overrideProvider(NODE_TRANSPORT)
      .useValue(transport)
      .overrideProvider(NODE_IMAGE_CALLS)
      .useValue(fake)
      .compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.get(RegistryService).sync();
    await app.init();
    prePull = app.get(ImagePrePullService);
    fleet = app.get(FleetService);
    http = request(app.getHttpServer());
  });

  afterAll(async () => {
    await prePull?.settled();
    await app?.close();
    await tdb?.drop();
  });

  it('a node that comes up keeps and pulls every active image once synced, with the stored credential of each image host', async () => {
    await app.get(RegistryCredentialsService).put('ghcr.io', 'berth-pull', 'ghcr-token-never-shown');
    const images = await activeImages();
    expect(images.length).toBeGreaterThan(0);
    // The custom agent is active, but its base_image is a placeholder no node pulls or keeps.
    const custom = (await app.get(RegistryService).findAgentType('custom'))!;
    expect(custom.is_active).toBe(true);
    expect(images).not.toContain(custom.base_image);
    const a = await addNode('node-a');
    heartbeat(a.address, false);
    await prePull.settled();
    expect(fake.pullImageCalls).toEqual([]); // not synced yet: its slot list and cache are not known
    heartbeat(a.address, true);
    await waitFor(() => fake.pullImageCalls.length === images.length);
    await prePull.settled();
    expect(fake.keptImages.get(a.id)).toEqual(images);
    expect(fake.pullImageCalls.map((c) => c.image)).toEqual(images);
    for (const c of fake.pullImageCalls) {
      if (c.image.startsWith('ghcr.io/')) expect(c.registryAuth).toEqual({ server: 'ghcr.io', username: 'berth-pull', password: 'ghcr-token-never-shown' });
      else expect(c.registryAuth).toBeUndefined();
    }
    // Further heartbeats do not pull again; a restarted daemon (synced false, then true) does.
    heartbeat(a.address, true);
    await prePull.settled();
    expect(fake.pullImageCalls).toHaveLength(images.length);
    heartbeat(a.address, false);
    heartbeat(a.address, true);
    await waitFor(() => fake.pullImageCalls.length === 2 * images.length);
    await prePull.settled();

    const view = (await http.get(`/api/admin/nodes/${a.id}`).set(auth).expect(200)).body;
    await waitFor(async () => (await http.get(`/api/admin/nodes/${a.id}`).set(auth)).body.image_bytes === 123_456_789);
    expect(view.images.map((i: { image: string }) => i.image)).toEqual(images);
    for (const i of view.images) {
      expect(i).toEqual({ image: i.image, state: 'present', digest: expect.stringMatching(/@sha256:[0-9a-f]{64}$/), failure_reason: null, failure_message: null, updated_at: expect.any(String) });
    }
    const list = (await http.get('/api/admin/nodes').set(auth).expect(200)).body.nodes;
    expect(list.find((n: { id: string }) => n.id === a.id).images).toEqual(view.images);
    expect(JSON.stringify(view)).not.toContain('ghcr-token-never-shown');
  });

  it('an admin patch that changes an active image or activates an agent type makes every up node pull it; failures are recorded per node', async () => {
    const b = await addNode('node-b');
    heartbeat(b.address, true);
    await waitFor(() => fake.keptImages.has(b.id));
    await prePull.settled();
    const a = (await app.get(NodesRepository).getByName('node-a'))!;
    fake.pullImageCalls.length = 0;

    const pinned = '127.0.0.1:5000/team/myrai:2.0';
    await app.get(RegistryCredentialsService).put('127.0.0.1:5000', 'team', 'local-pass');
    fake.prePullFor = (nodeId, image) =>
      nodeId === b.id
        ? { ok: false, reason: 'registry_auth', message: `the registry refused the credentials for ${image}` }
        : { ok: true, digest: `127.0.0.1:5000/team/myrai@sha256:${'1'.repeat(64)}`, cached: false };
    await http.patch('/api/admin/agent-types/myrai').set(auth).send({ base_image: pinned }).expect(200);
    await waitFor(() => fake.pullImageCalls.length === 2);
    await prePull.settled();
    expect(fake.pullImageCalls.map((c) => [c.nodeId, c.image, c.registryAuth]).sort()).toEqual(
      [
        [a.id, pinned, { server: '127.0.0.1:5000', username: 'team', password: 'local-pass' }],
        [b.id, pinned, { server: '127.0.0.1:5000', username: 'team', password: 'local-pass' }],
      ].sort(),
    );
    for (const id of [a.id, b.id]) expect(fake.keptImages.get(id)).toEqual(await activeImages());
    expect(fake.keptImages.get(a.id)).toContain(pinned);

    const viewB = (await http.get(`/api/admin/nodes/${b.id}`).set(auth).expect(200)).body;
    expect(viewB.images.find((i: { image: string }) => i.image === pinned)).toEqual({
      image: pinned,
      state: 'failed',
      digest: null,
      failure_reason: 'registry_auth',
      failure_message: `the registry refused the credentials for ${pinned}`,
      updated_at: expect.any(String),
    });
    const viewA = (await http.get(`/api/admin/nodes/${a.id}`).set(auth).expect(200)).body;
    expect(viewA.images.find((i: { image: string }) => i.image === pinned)).toMatchObject({ state: 'present', digest: `127.0.0.1:5000/team/myrai@sha256:${'1'.repeat(64)}` });

    // A patch that touches no image (a description) pulls nothing; activating a planned agent pulls its image.
    fake.pullImageCalls.length = 0;
    fake.prePullFor = () => ({ ok: true, digest: `x@sha256:${'2'.repeat(64)}`, cached: false });
    await http.patch('/api/admin/agent-types/myrai').set(auth).send({ description: 'changed' }).expect(200);
    await prePull.settled();
    expect(fake.pullImageCalls).toEqual([]);
    // Every shipped agent is ready: one is made inactive first (pulling nothing), then activated again.
    const planned = (await app.get(RegistryService).listAgentTypes()).find((t) => t.id !== 'custom' && t.id !== 'myrai' && t.base_image)!;
    await http.patch(`/api/admin/agent-types/${planned.id}`).set(auth).send({ is_active: false }).expect(200);
    await prePull.settled();
    expect(fake.pullImageCalls).toEqual([]);
    // Activating or re-pointing the custom agent pulls nothing either.
    await http.patch('/api/admin/agent-types/custom').set(auth).send({ base_image: 'docker.io/library/busybox:1.36' }).expect(200);
    await prePull.settled();
    expect(fake.pullImageCalls).toEqual([]);
    await http.patch(`/api/admin/agent-types/${planned.id}`).set(auth).send({ is_active: true }).expect(200);
    await waitFor(() => fake.pullImageCalls.length === 2);
    await prePull.settled();
    expect(fake.pullImageCalls.map((c) => c.image)).toEqual([planned.base_image, planned.base_image]);
    expect(fake.keptImages.get(b.id)).toContain(planned.base_image);

    // Deactivating pulls nothing and drops the image from the kept list.
    fake.pullImageCalls.length = 0;
    await http.patch(`/api/admin/agent-types/${planned.id}`).set(auth).send({ is_active: false }).expect(200);
    await waitFor(() => !fake.keptImages.get(b.id)!.includes(planned.base_image!));
    await prePull.settled();
    expect(fake.pullImageCalls).toEqual([]);
  });

  it('never throws: a node that cannot be reached is recorded as failed, and a draining or down node is not asked', async () => {
    const c = await addNode('node-c');
    fake.down.add(c.id);
    heartbeat(c.address, true);
    await waitFor(async () => (await http.get(`/api/admin/nodes/${c.id}`).set(auth)).body.images.length > 0);
    await prePull.settled();
    const view = (await http.get(`/api/admin/nodes/${c.id}`).set(auth).expect(200)).body;
    for (const i of view.images) expect(i).toMatchObject({ state: 'failed', failure_reason: 'node_unavailable', failure_message: expect.stringContaining('connection refused') });

    await http.post(`/api/admin/nodes/${c.id}/drain`).set(auth).expect(200);
    fake.pullImageCalls.length = 0;
    await http.patch('/api/admin/agent-types/myrai').set(auth).send({ base_image: '127.0.0.1:5000/team/myrai:3.0' }).expect(200);
    await waitFor(() => fake.pullImageCalls.length === 2);
    await prePull.settled();
    expect(fake.pullImageCalls.map((x) => x.nodeId)).not.toContain(c.id);
  });
});
