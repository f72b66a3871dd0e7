import { randomBytes } from 'node:crypto';
import { TestRegistry, describeWithDocker, testDocker } from '@berth/testing';
import { expectStatus, type ApiClient, type Json } from './helpers/http-client';
import { readSse } from './helpers/sse';
import { bootCoordinator, eventually, startTestNode, type TestCoordinator, type TestNode } from './helpers/stack';
import { buildAgentStandin } from './helpers/standins';

/**
 * Agent images end to end (issue 9): a real distribution registry with htpasswd auth, a real
 * coordinator over HTTP, a node daemon in this process on the local Docker engine. The admin
 * stores the registry's credentials and pins Myrai to an image that exists only in the registry;
 * customers sign up and the node pulls it. Every assertion is on an HTTP answer, the registry or
 * Docker. The tests follow one registry's life, so they run in order.
 */
const pass = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
const RUN = randomBytes(3).toString('hex');
const REPO = `berth-e2e/myrai-${RUN}`;
const TAG = '1.0';
const ANTHROPIC_KEY = 'sk-ant-api03-IMAGESkeyDoNotLeak1234567890abcd';

describeWithDocker(`agent images e2e: pull from a real registry (${pass})`, () => {
  const docker = testDocker();
  let registry: TestRegistry;
  let t: TestCoordinator;
  let node: TestNode;
  let node2: TestNode | undefined;
  let image: string;
  /** Local builds pushed to the registry (removed from the engine right after, so the node has to pull). */
  const built: string[] = [];

  /** Builds a stand-in with a layer of its own (a fresh build), pushes it as REPO:TAG, and removes it from the engine. */
  async function pushFresh(generation: string): Promise<string> {
    const local = await buildAgentStandin('myrai', { prefix: `berth-test/images-${RUN}-${generation}`, env: { STANDIN_GENERATION: generation } });
    built.push(local);
    const { ref, digest } = await registry.push(local, `${REPO}:${TAG}`, docker);
    await forgetLocally(ref);
    await docker.getImage(local).remove({ force: true });
    return digest;
  }

  /** The engine drops its copy of a reference (as if the node had never pulled it). */
  const forgetLocally = (ref: string) => docker.getImage(ref).remove({ force: true }).catch(() => undefined);

  beforeAll(async () => {
    registry = await TestRegistry.start();
    image = `${registry.host}/${REPO}:${TAG}`;
    t = await bootCoordinator();
    node = await startTestNode(t, { portRange: '33000-33099', memory: '2GiB', cpu: '1' });
    await eventually(async () => {
      const v = await node.adminView(t);
      return v.status === 'up' && v.reachable && v.capacity.allocatable_memory_mb > 0 && v;
    }, 'the node is up with its capacity in GET /api/admin/nodes');
    const r = expectStatus(await t.admin.patch('/api/admin/agent-types/myrai', { base_image: image, is_active: true }), 200, 'pin myrai');
    expect(r.body.base_image).toBe(image);
  }, 300_000);

  afterAll(async () => {
    await t?.close();
    await node?.destroy();
    await node2?.destroy();
    await registry?.destroy();
    for (const ref of [image, ...built]) if (ref) await forgetLocally(ref);
  }, 120_000);

  // ------------------------------------------------------------------ helpers

  async function signup(): Promise<{ api: ApiClient; slotId: string; deploymentId: string }> {
    const r = expectStatus(
      await t.api.post('/api/signup', {
        email: `img-${randomBytes(4).toString('hex')}@example.com`,
        password: 'harbour-lights-42!',
        agent_type_id: 'myrai',
        llm_provider_id: 'anthropic',
        llm_api_key: ANTHROPIC_KEY,
        config: {},
      }),
      201,
      'signup',
    );
    return { api: t.api.as(r.body.token), slotId: r.body.slot.id, deploymentId: r.body.deployment.id };
  }

  /** A deployment's events over SSE until the server ends the stream, as parsed JSON. */
  async function eventsOf(api: ApiClient, deploymentId: string): Promise<Json[]> {
    const events = await readSse(`${t.baseUrl}/api/deployments/${deploymentId}/events`, { headers: { authorization: `Bearer ${api.token}` }, timeoutMs: 240_000 });
    return events.map((e) => ({ ...JSON.parse(e.data), event: e.event }));
  }

  const deployment = async (api: ApiClient, id: string) => expectStatus(await api.get(`/api/deployments/${id}`), 200, 'GET deployment').body;
  const myraiView = async () => expectStatus(await t.admin.get('/api/admin/agent-types'), 200, 'GET agent types').body.agent_types.find((a: Json) => a.id === 'myrai');
  const containersOf = (slotId: string) => docker.listContainers({ all: true, filters: JSON.stringify({ label: [`berth.slot=${slotId}`] }) });

  let digestA: string;
  /** Test 4's customer (test 5 terminates the slot). */
  let myraiSlot: { api: ApiClient; slotId: string; deploymentId: string };

  // ------------------------------------------------------------------ 1

  it('stores registry credentials sealed: listed by host and username, the password nowhere', async () => {
    digestA = await pushFresh('a');
    const wrong = expectStatus(await t.admin.put(`/api/admin/registries/${registry.host}`, { username: 'berth', password: 'not-the-password' }), 200, 'PUT registry');
    expect(wrong.body).toMatchObject({ host: registry.host, username: 'berth' });
    const list = expectStatus(await t.admin.get('/api/admin/registries'), 200, 'GET registries');
    expect(list.body.registries).toEqual([{ host: registry.host, username: 'berth', created_at: expect.any(String), updated_at: expect.any(String) }]);
    expect(list.text).not.toContain('not-the-password');
  });

  // ------------------------------------------------------------------ 2

  it('a wrong stored password: the deployment fails saying the registry refused the credentials, nothing left behind', async () => {
    const me = await signup();
    const events = await eventsOf(me.api, me.deploymentId);
    const last = events[events.length - 1];
    expect(last).toMatchObject({ event: 'failed', type: 'failed', data: { reason: 'registry_auth' } });
    expect(last.message).toMatch(/credential/i);

    const slot = expectStatus(await me.api.get('/api/slot'), 200, 'GET /api/slot').body;
    expect(slot).toMatchObject({ state: 'failed', published_ports: [] });
    expect(slot.state_reason).toBe(last.message);
    expect(await deployment(me.api, me.deploymentId)).toMatchObject({ status: 'failed', error: last.message, image_digest: null });
    expect(await containersOf(me.slotId)).toEqual([]);
    expect((await node.adminView(t)).capacity.allocated_memory_mb).toBe(0);
  });

  // ------------------------------------------------------------------ 3

  it('with the right password a signup deploys by pulling: image_pull progress in its events, the registry digest recorded', async () => {
    expectStatus(await t.admin.put(`/api/admin/registries/${registry.host}`, { username: 'berth', password: registry.users.berth }), 200, 'PUT registry');
    const resolutions = registry.tagResolutions(REPO, TAG);
    const me = await signup();
    const events = await eventsOf(me.api, me.deploymentId);
    const types = events.map((e) => e.type);
    expect(types[types.length - 1]).toBe('succeeded');

    const pulls = events.filter((e) => e.type === 'image_pull');
    expect(pulls.length).toBeGreaterThan(0);
    for (const p of pulls) {
      expect(p.data).toEqual({ layers_done: expect.any(Number), layers_total: expect.any(Number), bytes_done: expect.any(Number), bytes_total: expect.any(Number) });
      expect(p.data.layers_done).toBeLessThanOrEqual(p.data.layers_total);
      expect(p.data.bytes_done).toBeLessThanOrEqual(Math.max(p.data.bytes_total, p.data.bytes_done));
    }
    expect(pulls.some((p) => p.data.layers_total > 0 && p.data.bytes_total > 0)).toBe(true);
    expect(types.indexOf('image_ready')).toBeGreaterThan(types.lastIndexOf('image_pull'));
    expect(registry.tagResolutions(REPO, TAG)).toBeGreaterThan(resolutions);

    expect(await registry.digestOf(REPO, TAG)).toBe(digestA);
    expect(await deployment(me.api, me.deploymentId)).toMatchObject({ status: 'succeeded', image_digest: digestA });
    const slot = expectStatus(await me.api.get('/api/slot'), 200, 'GET /api/slot').body;
    expect(slot).toMatchObject({ state: 'running', deployment: { id: me.deploymentId, image_digest: digestA } });
    expect(await myraiView()).toMatchObject({ base_image: image, image_digest: digestA, image_digest_changed: null });

    // The password reached the node and nothing else the coordinator says or writes.
    expect(t.logs.join('\n')).not.toContain(registry.users.berth);
    expect(JSON.stringify(events)).not.toContain(registry.users.berth);

    // Make room for the next test's node: this slot goes, and with it the engine's copy of the tag.
    const term = expectStatus(await me.api.delete('/api/slot'), 202, 'DELETE /api/slot');
    expect((await eventsOf(me.api, term.body.deployment.id)).pop()).toMatchObject({ type: 'succeeded' });
  });

  // ------------------------------------------------------------------ 4

  it('the tag re-pushed with other content: the next deployment runs the new digest and the admin sees the change', async () => {
    await forgetLocally(image); // a node that had not cached it yet (a new host, or an evicted image)
    const digestB = await pushFresh('b');
    expect(digestB).not.toBe(digestA);

    const me = await signup();
    const events = await eventsOf(me.api, me.deploymentId);
    expect(events[events.length - 1]).toMatchObject({ type: 'succeeded' });
    expect(await deployment(me.api, me.deploymentId)).toMatchObject({ status: 'succeeded', image_digest: digestB });
    expect(await myraiView()).toMatchObject({
      base_image: image,
      image_digest: digestA,
      image_digest_changed: { from: digestA, to: digestB, at: expect.any(String) },
    });
    expect(t.logs.some((l) => l.includes(`now names ${digestB}`))).toBe(true);
    myraiSlot = me;
  });

  // ------------------------------------------------------------------ 5

  it('a node that registers pre-pulls the active images with their credentials: the next signup on it pulls nothing', async () => {
    // The first node leaves placement (its last slot terminated first, so nothing moves), and the
    // engine forgets the tag: the new node starts without the image.
    const term = expectStatus(await myraiSlot.api.delete('/api/slot'), 202, 'DELETE /api/slot');
    expect((await eventsOf(myraiSlot.api, term.body.deployment.id)).pop()).toMatchObject({ type: 'succeeded' });
    expectStatus(await t.admin.post(`/api/admin/nodes/${(await node.adminView(t)).id}/drain`, {}), 200, 'drain the first node');
    await forgetLocally(image);
    const digestB = await registry.digestOf(REPO, TAG);
    const before = registry.tagResolutions(REPO, TAG);

    node2 = await startTestNode(t, { portRange: '33100-33199', memory: '2GiB', cpu: '1' });
    const id = (await node2.adminView(t)).id;
    const view = await eventually(async () => {
      const v = expectStatus(await t.admin.get(`/api/admin/nodes/${id}`), 200, 'GET /api/admin/nodes/:id').body;
      const mine = v.images.find((i: Json) => i.image === image);
      return mine?.state === 'present' && v.status === 'up' && v.capacity.allocatable_memory_mb > 0 && v;
    }, 'the new node has pre-pulled the pinned image (GET /api/admin/nodes/:id)', 120_000);
    expect(view.images.find((i: Json) => i.image === image)).toEqual({
      image,
      state: 'present',
      digest: `${registry.host}/${REPO}@${digestB}`,
      failure_reason: null,
      failure_message: null,
      updated_at: expect.any(String),
    });
    expect(typeof view.image_bytes).toBe('number');
    // The pre-pull went to the registry with the stored credentials (the registry requires them).
    expect(registry.tagResolutions(REPO, TAG)).toBeGreaterThan(before);
    // Catalogue images this host cannot reach are recorded as failed, with the node's reason.
    for (const other of view.images.filter((i: Json) => i.image !== image && i.state === 'failed')) {
      expect(other).toMatchObject({ digest: null, failure_reason: expect.any(String), failure_message: expect.any(String) });
    }
    const list = expectStatus(await t.admin.get('/api/admin/nodes'), 200, 'GET /api/admin/nodes').body.nodes;
    expect(list.find((n: Json) => n.id === id).images).toEqual(view.images);

    const resolutions = registry.tagResolutions(REPO, TAG);
    const me = await signup();
    const events = await eventsOf(me.api, me.deploymentId);
    expect(events[events.length - 1]).toMatchObject({ type: 'succeeded' });
    expect(events.filter((e) => e.type === 'image_pull')).toEqual([]);
    expect(registry.tagResolutions(REPO, TAG)).toBe(resolutions);
    expect(await deployment(me.api, me.deploymentId)).toMatchObject({ status: 'succeeded', image_digest: digestB });
    expect(expectStatus(await me.api.get('/api/slot'), 200, 'GET /api/slot').body.node_id).toBe(id);
    expect(t.logs.join('\n')).not.toContain(registry.users.berth);
  }, 300_000);
});
