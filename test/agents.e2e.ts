import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TestRegistry, describeWithDocker, testDocker } from '@berth/testing';
import { expectStatus, type ApiClient, type Json } from './helpers/http-client';
import { readSse } from './helpers/sse';
import { bootCoordinator, eventually, startTestNode, type TestCoordinator, type TestNode } from './helpers/stack';
import { buildAgentStandin, TEMPLATES_DIR } from './helpers/standins';

/**
 * Every agent of the seed, end to end on real Docker (issue 10). Each catalogue agent runs as its
 * contract-enforcing stand-in (libs/testing/src/standin/contracts/<id>.js: it stays unhealthy,
 * printing why, unless the env names, command and config file are those the real program reads,
 * and listens on loopback when the real program would), pushed to a real registry with htpasswd
 * auth and pulled by the node, so a template mistake fails here as it would on a real host.
 *
 * The coordinator reads a copy of templates/ (BERTH_TEMPLATES_DIR) that holds one extra agent,
 * `zeptoclaw-typo`: ZeptoClaw with its key under an env name the program does not read; and a
 * folder of community agents (BERTH_CATALOGUE_DIRS) with `hermit`, Myrai's files under an id of
 * its own, as an operator would add an agent without changing code.
 */
const pass = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
const RUN = randomBytes(3).toString('hex');
const AGENTS = ['openclaw', 'myrai', 'nanobot', 'zeptoclaw', 'picoclaw'];
/** Visits every pair of agents once as a switch (an Euler circuit of the complete graph on five). */
const TOUR = ['myrai', 'openclaw', 'nanobot', 'zeptoclaw', 'picoclaw', 'myrai', 'nanobot', 'picoclaw', 'openclaw', 'zeptoclaw', 'myrai'];
const ANTHROPIC_KEY = 'sk-ant-api03-AGENTSkeyDoNotLeak1234567890abcdef';

describeWithDocker(`every agent e2e: contract stand-ins pulled from a registry (${pass})`, () => {
  const docker = testDocker();
  let registry: TestRegistry;
  let t: TestCoordinator;
  let node: TestNode;
  let templatesDir: string;
  let communityDir: string;
  const pinned = new Map<string, string>();
  const digests = new Map<string, string>();
  const local: string[] = [];

  /** templates/ plus `zeptoclaw-typo`, a copy of ZeptoClaw whose Anthropic key goes to a misspelt env name. */
  function templatesWithTypo(): string {
    const dir = mkdtempSync(join(tmpdir(), 'berth-agents-templates-'));
    cpSync(TEMPLATES_DIR, dir, { recursive: true });
    cpSync(join(dir, 'agents', 'zeptoclaw'), join(dir, 'agents', 'zeptoclaw-typo'), { recursive: true });
    const file = join(dir, 'agents', 'zeptoclaw-typo', 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    m.id = 'zeptoclaw-typo';
    m.name = 'ZeptoClaw (typo)';
    m.start_period_seconds = 2;
    const binding = m.llm_providers.anthropic;
    expect(binding.key_env).toMatch(/^ZEPTOCLAW_/);
    binding.key_env = binding.key_env.replace(/^ZEPTOCLAW_PROVIDERS_/, 'ZEPTOCLAW_PROVIDER_');
    writeFileSync(file, JSON.stringify(m, null, 2));
    return dir;
  }

  /** A community agents folder holding `hermit`: Myrai's manifest and templates under another id. */
  function communityAgents(): string {
    const dir = mkdtempSync(join(tmpdir(), 'berth-community-'));
    cpSync(join(TEMPLATES_DIR, 'agents', 'myrai'), join(dir, 'hermit'), { recursive: true });
    const file = join(dir, 'hermit', 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8'));
    Object.assign(m, { id: 'hermit', name: 'Hermit (community)', description: 'A community agent added from a folder.' });
    delete m.upstream;
    writeFileSync(file, JSON.stringify(m, null, 2));
    return dir;
  }

  /** Builds the agent's contract stand-in, pushes it, and removes the registry tag from the engine (the node must pull). */
  async function publish(id: string, as = id): Promise<string> {
    const tag = await buildAgentStandin(id, { contract: true, prefix: `berth-test/agents-${RUN}` });
    local.push(tag);
    const { ref, digest } = await registry.push(tag, `berth-e2e/agents-${RUN}/${as}:v1`, docker);
    await docker.getImage(ref).remove({ noprune: true }).catch(() => undefined);
    digests.set(as, digest);
    return ref;
  }

  beforeAll(async () => {
    registry = await TestRegistry.start();
    templatesDir = templatesWithTypo();
    communityDir = communityAgents();
    t = await bootCoordinator({ env: { BERTH_TEMPLATES_DIR: templatesDir, BERTH_CATALOGUE_DIRS: communityDir } });
    node = await startTestNode(t, { portRange: '33400-33499', memory: '8GiB', cpu: '2' });
    await eventually(async () => {
      const v = await node.adminView(t);
      return v.status === 'up' && v.reachable && v.capacity.allocatable_memory_mb > 0 && v;
    }, 'the node is up');
    expectStatus(await t.admin.put(`/api/admin/registries/${registry.host}`, { username: 'berth', password: registry.users.berth }), 200, 'PUT registry');
    for (const id of AGENTS) pinned.set(id, await publish(id));
    pinned.set('zeptoclaw-typo', await publish('zeptoclaw', 'zeptoclaw-typo'));
    pinned.set('hermit', await publish('myrai', 'hermit'));
    for (const [id, ref] of pinned) expectStatus(await t.admin.patch(`/api/admin/agent-types/${id}`, { base_image: ref, is_active: true }), 200, `pin ${id}`);
  }, 400_000);

  afterAll(async () => {
    await t?.close();
    await node?.destroy();
    await registry?.destroy();
    for (const ref of [...pinned.values(), ...local]) await docker.getImage(ref).remove({ force: true }).catch(() => undefined);
    for (const dir of [templatesDir, communityDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  async function signup(agent: string, addons = {}): Promise<{ api: ApiClient; slotId: string; deploymentId: string }> {
    const r = expectStatus(
      await t.api.post('/api/signup', {
        email: `agents-${agent}-${randomBytes(4).toString('hex')}@example.com`,
        password: 'harbour-lights-42!',
        agent_type_id: agent,
        llm_provider_id: 'anthropic',
        llm_api_key: ANTHROPIC_KEY,
        addons,
        config: {},
      }),
      201,
      `signup for ${agent}`,
    );
    return { api: t.api.as(r.body.token), slotId: r.body.slot.id, deploymentId: r.body.deployment.id };
  }

  /** A deployment's events over SSE until it ends. */
  async function eventsOf(api: ApiClient, deploymentId: string): Promise<Json[]> {
    const events = await readSse(`${t.baseUrl}/api/deployments/${deploymentId}/events`, { headers: { authorization: `Bearer ${api.token}` }, timeoutMs: 240_000 });
    return events.map((e) => ({ ...JSON.parse(e.data), event: e.event }));
  }

  /**
   * The stand-in's own view (its contract verdict, or a data file), from this host over the slot's
   * network at the agent's internal port: not every agent publishes one (ZeptoClaw's only port is
   * its private health port), and the node daemon probes the same way.
   */
  async function standin(me: { slotId: string }, path: string, init?: RequestInit): Promise<Json> {
    const [c] = await docker.listContainers({ filters: JSON.stringify({ label: [`berth.slot=${me.slotId}`], status: ['running'] }) });
    if (!c) throw new Error(`slot ${me.slotId} has no running container`);
    const info = await docker.getContainer(c.Id).inspect();
    const ip = Object.values(info.NetworkSettings.Networks ?? {})[0]?.IPAddress;
    const port = Number(Object.keys(info.Config.ExposedPorts ?? {})[0]?.split('/')[0]);
    const r = await fetch(`http://${ip}:${port}${path}`, init);
    return (await r.json()) as Json;
  }

  it('the marketplace shows all five agents ready and active', async () => {
    const r = expectStatus(await t.api.get('/api/marketplace/agents'), 200, 'GET /api/marketplace/agents');
    const byId = new Map<string, Json>(r.body.agents.map((a: Json) => [a.id, a]));
    for (const id of AGENTS) expect(byId.get(id)).toMatchObject({ id, status: 'ready', is_active: true });
  });

  it.each(AGENTS)('%s: a signup reaches healthy through the pipeline; its stand-in found nothing to refuse', async (agent) => {
    const me = await signup(agent, agent === 'openclaw' ? { memory: true } : {});
    const events = await eventsOf(me.api, me.deploymentId);
    const last = events[events.length - 1];
    expect({ type: last.type, message: last.message }).toEqual({ type: 'succeeded', message: expect.any(String) });
    // The node pulled it from the registry (the pre-pull after the pin, or this deploy): the registry's digest ran.
    const dep = expectStatus(await me.api.get(`/api/deployments/${me.deploymentId}`), 200, 'GET deployment').body;
    expect(dep.image_digest).toBe(digests.get(agent));
    const verdict = await standin(me, '/contract');
    expect(verdict).toMatchObject({ contract: agent, problems: [] });
    expect(expectStatus(await me.api.get('/api/slot'), 200, 'GET /api/slot').body).toMatchObject({ state: 'running', health: 'healthy' });
    expectStatus(await me.api.delete('/api/slot'), 202, 'terminate');
  });

  it('a community agent added from a folder appears in the marketplace and deploys', async () => {
    const market = expectStatus(await t.api.get('/api/marketplace/agents'), 200, 'GET /api/marketplace/agents').body;
    expect(market.agents.find((a: Json) => a.id === 'hermit')).toMatchObject({ name: 'Hermit (community)', status: 'ready', is_active: true });
    const me = await signup('hermit');
    const events = await eventsOf(me.api, me.deploymentId);
    expect(events[events.length - 1].type).toBe('succeeded');
    expect(await standin(me, '/contract')).toMatchObject({ contract: 'myrai', problems: [] });
    expectStatus(await me.api.delete('/api/slot'), 202, 'terminate');
  });

  it("a template mistake is caught: the key under an env name ZeptoClaw does not read fails the deploy, the program's refusal in the reason", async () => {
    const me = await signup('zeptoclaw-typo');
    const events = await eventsOf(me.api, me.deploymentId);
    const last = events[events.length - 1];
    expect(last.type).toBe('failed');
    expect(last.message).toMatch(/never became healthy/);
    expect(last.message).toMatch(/last log lines:[\s\S]*contract zeptoclaw/);
    const slot = expectStatus(await me.api.get('/api/slot'), 200, 'GET /api/slot').body;
    expect(slot.state).toBe('failed');
    expect(slot.state_reason).toBe(last.message);
    expect(slot.state_reason).not.toContain(ANTHROPIC_KEY);
  });

  it('switching between every pair of agents: healthy each time, each agent finds its own data and only its own', async () => {
    const me = await signup(TOUR[0], { memory: true });
    expect((await eventsOf(me.api, me.deploymentId)).pop()?.type).toBe('succeeded');
    const seen = new Set<string>();
    for (let i = 0; i < TOUR.length; i++) {
      const agent = TOUR[i];
      if (i > 0) {
        const r = expectStatus(await me.api.post('/api/slot/switch', { agent_type_id: agent, llm_provider_id: 'anthropic', config: {} }), 202, `switch to ${agent}`);
        const events = await eventsOf(me.api, r.body.deployment.id);
        expect({ step: `${TOUR[i - 1]} -> ${agent}`, type: events[events.length - 1].type }).toEqual({ step: `${TOUR[i - 1]} -> ${agent}`, type: 'succeeded' });
      }
      expect(await standin(me, '/contract')).toMatchObject({ contract: agent, problems: [] });
      const mine = await standin(me, `/data?file=whose-${agent}.txt`);
      if (seen.has(agent)) expect(mine).toEqual({ content: `${agent} was here` });
      else {
        expect(mine).toEqual({ error: 'ENOENT' });
        expect(await standin(me, `/data?file=whose-${agent}.txt`, { method: 'PUT', body: `${agent} was here` })).toEqual({ written: `${agent} was here`.length });
        seen.add(agent);
      }
      for (const other of AGENTS.filter((a) => a !== agent)) expect(await standin(me, `/data?file=whose-${other}.txt`)).toEqual({ error: 'ENOENT' });
    }
    expect(seen).toEqual(new Set(AGENTS));
  });
});
