import { createServer } from 'node:net';
import { describeWithDocker, testDocker, type TestContainerInfo } from '@berth/testing';
import { expectStatus, type ApiClient, type Json } from './helpers/http-client';
import { readSse, type SseEvent } from './helpers/sse';
import { bootCoordinator, eventually, startTestNode, type TestCoordinator, type TestNode } from './helpers/stack';
import { agentManifest, buildAgentStandin } from './helpers/standins';

/**
 * The deploy pipeline end to end on ONE node (issue 4, "Tests"): a real coordinator over HTTP,
 * a node daemon in this process on the local Docker engine, stand-in agent images pinned
 * through the admin API. Every assertion is on an HTTP answer or on the real container.
 *
 * The tests follow one customer's life (signup, switches, a failed switch, add-ons, logs,
 * power, terminate), so they run in order and each builds on the one before.
 */
const pass = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
const MiB = 1024 * 1024;
const PORT_FROM = 31000;
const PORT_TO = 31099;
const ANTHROPIC_KEY = 'sk-ant-api03-PIPELINEkeyDoNotLeak1234567890abcd';
const TG_TOKEN = '123456789:AAHpipelineTelegramTokenDoNotLeak_987';
const PIPELINE_EVENTS = ['scheduled', 'image', 'creating', 'starting', 'healthy', 'succeeded'];

describeWithDocker(`deploy pipeline e2e, one node (${pass})`, () => {
  const docker = testDocker();
  let t: TestCoordinator;
  let node: TestNode;
  const images: Record<string, string> = {};

  beforeAll(async () => {
    // Built one after another: each build holds the host's node binary in memory twice.
    for (const id of ['myrai', 'nanobot', 'openclaw', 'zeptoclaw']) images[id] = await buildAgentStandin(id, { prefix: 'berth-test/pipeline' });
    images.picoclaw = await buildAgentStandin('picoclaw', { prefix: 'berth-test/pipeline', behaviour: 'never-healthy' });

    t = await bootCoordinator();
    node = await startTestNode(t, { portRange: `${PORT_FROM}-${PORT_TO}`, memory: '4GiB', cpu: '2' });
    // The node reports its capacity over the fleet connection; nothing is placed before that.
    await eventually(async () => {
      const v = await node.adminView(t);
      return v.status === 'up' && v.reachable && v.capacity.allocatable_memory_mb > 0 && v;
    }, 'the node is up with its capacity in GET /api/admin/nodes');

    for (const [id, image] of Object.entries(images)) {
      const r = expectStatus(await t.admin.patch(`/api/admin/agent-types/${id}`, { base_image: image, is_active: true }), 200, `pin ${id}`);
      expect(r.body).toMatchObject({ base_image: image, is_active: true });
    }
  }, 300_000);

  afterAll(async () => {
    await t?.close();
    await node?.destroy();
  }, 60_000);

  // ------------------------------------------------------------------ helpers

  const signupBody = (over: Record<string, unknown> = {}) => ({
    email: `pipe-${Math.random().toString(36).slice(2, 10)}@example.com`,
    password: 'harbour-lights-42!',
    agent_type_id: 'myrai',
    llm_provider_id: 'anthropic',
    llm_api_key: ANTHROPIC_KEY,
    config: {},
    ...over,
  });

  async function signup(over: Record<string, unknown> = {}): Promise<{ api: ApiClient; slotId: string; deploymentId: string }> {
    const r = expectStatus(await t.api.post('/api/signup', signupBody(over)), 201, 'signup');
    expect(r.body.deployment.id).toEqual(expect.any(String));
    return { api: t.api.as(r.body.token), slotId: r.body.slot.id, deploymentId: r.body.deployment.id };
  }

  /** Follows a deployment's server-sent events until the server ends the stream. */
  async function follow(api: ApiClient, deploymentId: string): Promise<{ types: string[]; events: SseEvent[]; last: Json }> {
    const events = await readSse(`${t.baseUrl}/api/deployments/${deploymentId}/events`, {
      headers: { authorization: `Bearer ${api.token}` },
      timeoutMs: 150_000,
    });
    const types = events.map((e) => e.event);
    return { types, events, last: events.length ? JSON.parse(events[events.length - 1].data) : undefined };
  }

  /** Follows a change to its end and insists it succeeded (naming the events when it did not). */
  async function followToSuccess(api: ApiClient, deploymentId: string): Promise<string[]> {
    const f = await follow(api, deploymentId);
    if (f.types[f.types.length - 1] !== 'succeeded') {
      throw new Error(`deployment ${deploymentId} ended ${f.types.join(' > ')}: ${f.events.map((e) => e.data).join('\n')}`);
    }
    return f.types;
  }

  /** POSTs/PUTs a change that answers 202 with a deployment, and follows it to success. */
  async function change(r: Promise<{ status: number; text: string; body: Json }>, api: ApiClient, what: string): Promise<{ id: string; types: string[] }> {
    const res = await r;
    if (res.status !== 202) throw new Error(`${what}: expected 202, got ${res.status}: ${res.text}`);
    return { id: res.body.deployment.id, types: await followToSuccess(api, res.body.deployment.id) };
  }

  const slotOf = async (api: ApiClient) => expectStatus(await api.get('/api/slot'), 200, 'GET /api/slot').body;

  /** Every container (running or not) of the slot on our node. */
  const containersOf = (slotId: string): Promise<TestContainerInfo[]> =>
    docker.listContainers({ all: true, filters: JSON.stringify({ label: [`berth.slot=${slotId}`, `berth.node=${node.id}`] }) });

  async function theContainer(slotId: string) {
    const list = await containersOf(slotId);
    expect(list.map((c) => c.Names)).toHaveLength(1);
    return docker.getContainer(list[0].Id).inspect();
  }

  /** The stand-in's own HTTP answer on a published port of the host. */
  async function standin(hostPort: number, path: string, init?: RequestInit): Promise<{ status: number; body: Json }> {
    const res = await fetch(`http://127.0.0.1:${hostPort}${path}`, { ...init, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  const portOf = (slot: Json, name: string): number => {
    const p = slot.published_ports.find((x: Json) => x.name === name);
    if (!p) throw new Error(`no published port '${name}' in ${JSON.stringify(slot.published_ports)}`);
    return p.host_port;
  };

  const envOf = (info: { Config: { Env: string[] | null } }): Record<string, string> =>
    Object.fromEntries((info.Config.Env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

  const portFree = (port: number) =>
    new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });

  // The customer whose life the tests follow (Myrai on the base plan at signup).
  let me: { api: ApiClient; slotId: string; deploymentId: string };

  // ------------------------------------------------------------------ 1

  it('signup deploys Myrai: events in order, running on a published port, the key in its env, the plan in docker inspect', async () => {
    me = await signup({ agent_type_id: 'myrai', llm_provider_id: 'anthropic', telegram_bot_token: TG_TOKEN, config: { model: 'claude-sonnet' } });

    const f = await follow(me.api, me.deploymentId);
    // The pipeline's steps appear in this order, each once (node progress such as 'probing' in between).
    const steps = f.types.filter((x) => PIPELINE_EVENTS.includes(x));
    expect(steps).toEqual(PIPELINE_EVENTS);
    expect(f.types[f.types.length - 1]).toBe('succeeded');
    const seqs = f.events.map((e) => Number(e.id));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(f.last).toMatchObject({ type: 'succeeded', seq: seqs[seqs.length - 1] });

    const slot = await slotOf(me.api);
    expect(slot).toMatchObject({ id: me.slotId, state: 'running', agent_type_id: 'myrai', current_agent_type_id: 'myrai', health: 'healthy', node_id: expect.any(String) });
    expect(slot.published_ports).toEqual([{ name: 'http', container_port: 8080, host_ip: '127.0.0.1', host_port: expect.any(Number) }]);
    const port = portOf(slot, 'http');
    expect(port).toBeGreaterThanOrEqual(PORT_FROM);
    expect(port).toBeLessThanOrEqual(PORT_TO);
    expect(slot.urls).toEqual([{ name: 'http', url: `http://127.0.0.1:${port}` }]);
    expect(JSON.stringify(slot)).not.toContain(ANTHROPIC_KEY);

    // The stand-in answers Myrai's health path on the published port, sees the key, runs as the image's user.
    expect(await standin(port, '/api/health')).toEqual({ status: 200, body: { ok: true } });
    const env = (await standin(port, '/env')).body;
    expect(env.ANTHROPIC_API_KEY).toBe(ANTHROPIC_KEY);
    expect(env.MYRAI_CHANNELS_TELEGRAM_BOT_TOKEN).toBe(TG_TOKEN);
    expect(env.MYRAI_GATEWAY_TOKEN).toMatch(/.{16,}/);

    const info = await theContainer(me.slotId);
    expect(info.State.Running).toBe(true);
    expect(envOf(info).ANTHROPIC_API_KEY).toBe(ANTHROPIC_KEY);
    expect(info.Config.Image).toBe(images.myrai);
    // The template's command reaches the container; the stand-in ignores it and still serves.
    expect(info.Config.Cmd).toEqual(['--data', '/app/data']);
    expect(info.HostConfig).toMatchObject({
      Memory: 512 * MiB,
      MemorySwap: 512 * MiB,
      NanoCpus: 250_000_000,
      PidsLimit: 512,
      CapDrop: ['ALL'],
      Privileged: false,
    });
    expect(info.HostConfig.SecurityOpt).toEqual(expect.arrayContaining([expect.stringMatching(/^no-new-privileges(:true)?$/)]));
    expect(info.Mounts.map((m) => [m.Type, m.Destination])).toEqual([['volume', agentManifest('myrai').data_dir]]);
  });

  // ------------------------------------------------------------------ 2

  it('OpenClaw: refused without the memory add-on (400 naming it); with it, 1 GiB, both ports, user 1000:1000, its config file', async () => {
    const refused = await t.api.post('/api/signup', signupBody({ agent_type_id: 'openclaw' }));
    expect(refused.status).toBe(400);
    expect(refused.body.fields.addons.join(' ')).toMatch(/'memory' add-on/);

    const oc = await signup({ agent_type_id: 'openclaw', addons: { memory: true }, config: { telegram_allow_from: ['12345'] } });
    await followToSuccess(oc.api, oc.deploymentId);
    const slot = await slotOf(oc.api);
    expect(slot).toMatchObject({ state: 'running', current_agent_type_id: 'openclaw', resources: { memory_mb: 1024, cpu: 0.25 } });
    expect(slot.published_ports.map((p: Json) => p.name).sort()).toEqual(['bridge', 'gateway']);
    const gateway = portOf(slot, 'gateway');
    const bridge = portOf(slot, 'bridge');
    expect(gateway).not.toBe(bridge);
    expect((await standin(gateway, '/readyz')).status).toBe(200);
    expect((await standin(bridge, '/whoami')).body).toMatchObject({ port: 18790 });
    expect((await standin(gateway, '/whoami')).body).toMatchObject({ uid: 1000, gid: 1000, port: 18789 });

    const info = await theContainer(oc.slotId);
    expect(info.Config.User).toBe('1000:1000');
    expect(info.HostConfig).toMatchObject({ Memory: 1024 * MiB, MemorySwap: 1024 * MiB, NanoCpus: 250_000_000 });
    expect(Object.keys(info.HostConfig.PortBindings ?? {}).sort()).toEqual(['18789/tcp', '18790/tcp']);
    const env = envOf(info);
    expect(env.ANTHROPIC_API_KEY).toBe(ANTHROPIC_KEY);
    expect(env.OPENCLAW_GATEWAY_TOKEN).toMatch(/.{16,}/);

    // openclaw.json is rendered into the data volume, readable by the agent's user; the data dir is writable.
    const file = await standin(gateway, '/data?file=openclaw.json');
    expect(file.status).toBe(200);
    const config = JSON.parse(file.body.content);
    expect(config.gateway).toMatchObject({ mode: 'local', port: 18789 });
    expect(config.channels.telegram.allowFrom).toEqual(['12345']);
    expect(await standin(gateway, '/data?file=note.txt', { method: 'PUT', body: 'openclaw was here' })).toEqual({ status: 200, body: { written: 17 } });
  });

  // ------------------------------------------------------------------ 3

  it('switch Myrai -> Nanobot -> Myrai -> Nanobot -> Myrai: healthy each time, each agent finds its own data again', async () => {
    const myraiPort = portOf(await slotOf(me.api), 'http');
    expect((await standin(myraiPort, '/data?file=myrai-note.txt', { method: 'PUT', body: 'written by myrai' })).status).toBe(200);

    const toNanobot = () => me.api.post('/api/slot/switch', { agent_type_id: 'nanobot', llm_provider_id: 'anthropic', config: { model: 'claude-haiku' } });
    const toMyrai = () => me.api.post('/api/slot/switch', { agent_type_id: 'myrai', llm_provider_id: 'anthropic', config: { model: 'claude-sonnet' } });

    await change(toNanobot(), me.api, 'switch to nanobot');
    let slot = await slotOf(me.api);
    expect(slot).toMatchObject({ state: 'running', agent_type_id: 'nanobot', current_agent_type_id: 'nanobot' });
    let port = portOf(slot, 'gateway');
    expect((await standin(port, '/health')).status).toBe(200);
    expect((await standin(port, '/env')).body.ANTHROPIC_API_KEY).toBe(ANTHROPIC_KEY);
    // Its own volume: Myrai's file is not there, its config.json is.
    expect((await standin(port, '/data?file=myrai-note.txt')).status).toBe(404);
    expect(JSON.parse((await standin(port, '/data?file=config.json')).body.content).agents).toBeDefined();
    expect((await standin(port, '/data?file=nanobot-note.txt', { method: 'PUT', body: 'written by nanobot' })).status).toBe(200);
    expect((await containersOf(me.slotId)).map((c) => c.Image)).toEqual([images.nanobot]);

    await change(toMyrai(), me.api, 'switch back to myrai');
    slot = await slotOf(me.api);
    expect(slot).toMatchObject({ state: 'running', current_agent_type_id: 'myrai' });
    port = portOf(slot, 'http');
    expect((await standin(port, '/api/health')).status).toBe(200);
    expect((await standin(port, '/data?file=myrai-note.txt')).body).toEqual({ content: 'written by myrai' });

    await change(toNanobot(), me.api, 'switch to nanobot again');
    port = portOf(await slotOf(me.api), 'gateway');
    expect((await standin(port, '/data?file=nanobot-note.txt')).body).toEqual({ content: 'written by nanobot' });

    await change(toMyrai(), me.api, 'switch back to myrai again');
    port = portOf(await slotOf(me.api), 'http');
    expect((await standin(port, '/data?file=myrai-note.txt')).body).toEqual({ content: 'written by myrai' });
    expect((await containersOf(me.slotId)).map((c) => c.Image)).toEqual([images.myrai]);
  });

  // ------------------------------------------------------------------ 4

  it('a switch to an agent that never gets healthy rolls back to the previous agent, data intact', async () => {
    expect(agentManifest('picoclaw').start_period_seconds).toBeLessThanOrEqual(30);
    const r = expectStatus(await me.api.post('/api/slot/switch', { agent_type_id: 'picoclaw', llm_provider_id: 'anthropic', config: {} }), 202, 'switch to picoclaw');
    const f = await follow(me.api, r.body.deployment.id);
    expect(f.types).toEqual(expect.arrayContaining(['scheduled', 'image', 'creating', 'starting']));
    expect(f.types).not.toContain('healthy');
    expect(f.types[f.types.length - 1]).toBe('rolled_back');
    expect(f.last.message).toMatch(/picoclaw did not become healthy/);
    const rollbackId = f.last.data.rollback_deployment_id;
    expect(rollbackId).toEqual(expect.any(String));

    await followToSuccess(me.api, rollbackId);
    const switchDep = expectStatus(await me.api.get(`/api/deployments/${r.body.deployment.id}`), 200).body;
    expect(switchDep).toMatchObject({ kind: 'switch', status: 'rolled_back' });
    const rollbackDep = expectStatus(await me.api.get(`/api/deployments/${rollbackId}`), 200).body;
    expect(rollbackDep).toMatchObject({ kind: 'rollback', status: 'succeeded' });

    const slot = await slotOf(me.api);
    expect(slot).toMatchObject({ state: 'running', agent_type_id: 'myrai', current_agent_type_id: 'myrai', deployment: { id: rollbackId } });
    const port = portOf(slot, 'http');
    expect((await standin(port, '/api/health')).status).toBe(200);
    expect((await standin(port, '/env')).body.ANTHROPIC_API_KEY).toBe(ANTHROPIC_KEY);
    expect((await standin(port, '/data?file=myrai-note.txt')).body).toEqual({ content: 'written by myrai' });
    // Nothing of the failed agent is left running: one container, Myrai's.
    expect((await containersOf(me.slotId)).map((c) => [c.Image, c.State])).toEqual([[images.myrai, 'running']]);
  });

  // ------------------------------------------------------------------ 5

  it('add-ons change the running container limits in place; billing says $49', async () => {
    const before = await theContainer(me.slotId);
    await change(me.api.put('/api/slot/addons', { memory: true, cpu: true }), me.api, 'add-ons');
    const after = await theContainer(me.slotId);
    expect(after.Id).toBe(before.Id);
    expect(after.State.Running).toBe(true);
    expect(after.HostConfig).toMatchObject({ Memory: 1024 * MiB, NanoCpus: 500_000_000 });
    expect(after.HostConfig.MemorySwap).toBe(1024 * MiB);
    expect(await slotOf(me.api)).toMatchObject({ state: 'running', resources: { memory_mb: 1024, cpu: 0.5 }, addons: { memory: true, cpu: true }, monthly_price_usd: 49 });
    const bill = expectStatus(await me.api.get('/api/billing'), 200).body;
    expect(bill).toMatchObject({ monthly_total_usd: 49, currency: 'USD', addons: { memory: true, cpu: true, priority_support: false } });
    expect(bill.lines.map((l: Json) => l.monthly_usd)).toEqual([29, 10, 10]);
  });

  // ------------------------------------------------------------------ 6

  it('logs show the stand-in output; the compose export has placeholders and no secret', async () => {
    const logs = expectStatus(await me.api.get('/api/slot/logs?tail=50'), 200);
    expect(logs.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(logs.text).toContain('standin: listening on 8080 (health /api/health on 8080, behaviour healthy)');
    expect(logs.text).not.toContain(ANTHROPIC_KEY);

    const gatewayToken = envOf(await theContainer(me.slotId)).MYRAI_GATEWAY_TOKEN;
    expect(gatewayToken).toMatch(/.{16,}/);
    const compose = expectStatus(await me.api.get('/api/slot/compose'), 200);
    expect(compose.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(compose.text).not.toContain(ANTHROPIC_KEY);
    expect(compose.text).not.toContain(gatewayToken);
    expect(compose.text).not.toContain(TG_TOKEN);
    expect(compose.text).toContain('${ANTHROPIC_API_KEY}');
    expect(compose.text).toMatch(/\$\{[A-Z_]*GATEWAY_TOKEN\}/);
    expect((compose.headers.get('x-berth-variables') ?? '').split(',')).toEqual(expect.arrayContaining(['ANTHROPIC_API_KEY']));
  });

  // ------------------------------------------------------------------ 7

  it('stop, start and restart: the slot state and the container follow', async () => {
    const first = await theContainer(me.slotId);

    await change(me.api.post('/api/slot/stop'), me.api, 'stop');
    expect((await slotOf(me.api)).state).toBe('stopped');
    expect((await theContainer(me.slotId)).State.Running).toBe(false);

    // Start and restart end when the probe says healthy again.
    expect((await change(me.api.post('/api/slot/start'), me.api, 'start')).types.slice(-2)).toEqual(['healthy', 'succeeded']);
    const slot = await slotOf(me.api);
    expect(slot.state).toBe('running');
    const started = await theContainer(me.slotId);
    expect(started.State.Running).toBe(true);
    expect(started.Id).toBe(first.Id);
    expect((await standin(portOf(slot, 'http'), '/api/health')).status).toBe(200);

    expect((await change(me.api.post('/api/slot/restart'), me.api, 'restart')).types.slice(-2)).toEqual(['healthy', 'succeeded']);
    expect((await slotOf(me.api)).state).toBe('running');
    const restarted = await theContainer(me.slotId);
    expect(restarted.State.Running).toBe(true);
    expect(restarted.State.StartedAt).not.toBe(started.State.StartedAt);
    expect((await standin(portOf(await slotOf(me.api), 'http'), '/data?file=myrai-note.txt')).body).toEqual({ content: 'written by myrai' });
  });

  // ------------------------------------------------------------------ 8

  it('terminate: container gone, ports free, the node room back, data volumes kept', async () => {
    const slot = await slotOf(me.api);
    const port = portOf(slot, 'http');
    const before = await node.adminView(t);

    await change(me.api.delete('/api/slot'), me.api, 'terminate');
    expect(await slotOf(me.api)).toMatchObject({ state: 'terminated', published_ports: [] });
    expect(await containersOf(me.slotId)).toEqual([]);
    expect(await portFree(port)).toBe(true);

    const after = await node.adminView(t);
    expect(before.capacity.allocated_memory_mb - after.capacity.allocated_memory_mb).toBe(1024);
    expect(before.capacity.allocated_cpu_millis - after.capacity.allocated_cpu_millis).toBe(500);

    const volumes = (await docker.listVolumes({ filters: JSON.stringify({ label: [`berth.slot=${me.slotId}`] }) })).Volumes ?? [];
    expect(volumes.map((v) => v.Name).sort()).toEqual([`berth-${me.slotId}-myrai`, `berth-${me.slotId}-nanobot`, `berth-${me.slotId}-picoclaw`].sort());
    const networks = await docker.listNetworks({ filters: JSON.stringify({ label: [`berth.slot=${me.slotId}`] }) });
    expect(networks).toEqual([]);
    // A second terminate has nothing to do.
    expect((await me.api.delete('/api/slot')).status).toBeGreaterThanOrEqual(400);
  });

  // ------------------------------------------------------------------ 9

  it('template injection: rejected by validation, or inert where a free string is allowed', async () => {
    const evil = 'x"\n    privileged: true\n    volumes: ["/:/host"]\n}} {{GatewayToken}} \'';

    // The Telegram token and the config are validated before anything is written.
    const tg = await t.api.post('/api/signup', signupBody({ telegram_bot_token: `${TG_TOKEN}\n    privileged: true` }));
    expect(tg.status).toBe(400);
    expect(tg.body.fields.telegram_bot_token).toBeDefined();
    const extra = await t.api.post('/api/signup', signupBody({ config: { model: 'm', privileged: true } }));
    expect(extra.status).toBe(400);
    expect(extra.body.fields.config.join(' ')).toMatch(/privileged/);
    const key = await t.api.post('/api/signup', signupBody({ llm_api_key: `${ANTHROPIC_KEY}\nprivileged: true` }));
    expect(key.status).toBe(400);
    expect(key.body.fields.llm_api_key).toBeDefined();

    // ZeptoClaw renders config.model straight into its compose environment: it stays one string.
    const z = await signup({ agent_type_id: 'zeptoclaw', config: { model: evil } });
    await followToSuccess(z.api, z.deploymentId);
    let info = await theContainer(z.slotId);
    expect(envOf(info).ZEPTOCLAW_AGENTS_DEFAULTS_MODEL).toBe(evil);
    const inert = (i: typeof info, dataDir: string) => {
      expect(i.HostConfig.Privileged).toBe(false);
      expect(i.HostConfig.Binds ?? []).toEqual([]);
      expect(i.HostConfig.CapAdd ?? []).toEqual([]);
      expect(i.Mounts.map((m) => [m.Type, m.Destination])).toEqual([['volume', dataDir]]);
      expect(Object.keys(envOf(i))).not.toContain('privileged');
    };
    inert(info, agentManifest('zeptoclaw').data_dir);

    // A switch is validated the same way.
    const badSwitch = await z.api.post('/api/slot/switch', { agent_type_id: 'myrai', llm_provider_id: 'anthropic', telegram_bot_token: `${TG_TOKEN}"\n}}` });
    expect(badSwitch.status).toBe(400);
    expect(badSwitch.body.fields.telegram_bot_token).toBeDefined();

    // The custom provider's key may hold quotes, braces and `privileged: true` (printable, no spaces): inert too.
    const customKey = `k"}}{{GatewayToken}}'privileged:true{{{LLMKey}}}`;
    await change(
      z.api.post('/api/slot/switch', {
        agent_type_id: 'myrai',
        llm_provider_id: 'custom',
        llm_api_key: customKey,
        llm_base_url: 'http://llm.example.com:8000/v1',
        config: { model: evil.slice(0, 200), system_prompt: evil },
      }),
      z.api,
      'switch with a hostile custom key',
    );
    info = await theContainer(z.slotId);
    const env = envOf(info);
    expect(env.OPENAI_API_KEY).toBe(customKey);
    expect(env.OPENAI_BASE_URL).toBe('http://llm.example.com:8000/v1');
    inert(info, agentManifest('myrai').data_dir);
    const compose = expectStatus(await z.api.get('/api/slot/compose'), 200);
    expect(compose.text).not.toContain(customKey);
  });
});
