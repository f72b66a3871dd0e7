import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import request from 'supertest';
import { createApp, type CoordinatorApp } from '../app';
import { createTestDatabase, type TestDatabase } from '../database/test-database';

/**
 * Custom images at the API (issue 10), over HTTP against the real coordinator and a real database
 * (PGlite, or PostgreSQL when DATABASE_URL is set), with no node: every bad `custom_image` is a
 * 400 naming its field and writes nothing (no customer, slot, secret or deployment, so nothing can
 * reach a node); an accepted one is stored as the slot's settings with its registry credentials
 * sealed, and no answer, export, row or log line carries the password.
 */
const pass = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
const LLM_KEY = 'sk-ant-api03-CUSTOMkeyDoNotLeak1234567890wxyz';
const PASSWORD = 'registry-pass-DoNotLeak-7b1e';
const USERNAME = 'registry-user-hidden-42';
const LOCAL = '127.0.0.1:5000';
const IMAGE = `${LOCAL}/team/agent:1.0`;

describe(`custom images at the API (${pass})`, () => {
  let dir: string;
  let t: TestDatabase;
  let c: CoordinatorApp;
  let http: ReturnType<typeof request>;
  const logs: string[] = [];
  const keep = (level: string) => (m: unknown, ...rest: unknown[]) => void logs.push(`${level} ${[m, ...rest].map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')}`);
  const logger: LoggerService = { log: keep('log'), error: keep('error'), warn: keep('warn'), debug: keep('debug'), verbose: keep('verbose') };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-custom-'));
    t = await createTestDatabase({ pgliteDir: join(dir, 'pgdata'), migrateNow: false });
    c = await createApp({
      env: {
        BERTH_DATA_DIR: dir,
        BERTH_LOCAL_NODE: 'false',
        BERTH_SIGNUP_RATE_LIMIT: '1000',
        LOG_LEVEL: 'verbose',
        BERTH_CUSTOM_IMAGE_REGISTRIES: `docker.io,ghcr.io,${LOCAL}`,
      },
      db: t.db,
      logger,
    });
    http = request(c.app.getHttpServer());
  });

  afterAll(async () => {
    await c?.close();
    await t?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const customImage = (over: Record<string, unknown> = {}) => ({ image: IMAGE, internal_port: 9090, health_path: '/ready', ...over });
  const signupBody = (over: Record<string, unknown> = {}) => ({
    email: `custom-${Math.random().toString(36).slice(2, 10)}@example.com`,
    password: 'harbour-lights-42!',
    agent_type_id: 'custom',
    llm_provider_id: 'anthropic',
    llm_api_key: LLM_KEY,
    custom_image: customImage(),
    ...over,
  });
  const counts = async () => {
    const p = t.db.prisma;
    return { customers: await p.customer.count(), slots: await p.slot.count(), secrets: await p.secret.count(), deployments: await p.deployment.count() };
  };

  /** [what, body changes, field that must be named, message] */
  const BAD: [string, Record<string, unknown>, string, RegExp][] = [
    ['a malformed reference', { custom_image: customImage({ image: 'Not An Image!' }) }, 'custom_image.image', /not a valid image reference/],
    ['an option smuggled into the reference', { custom_image: customImage({ image: 'ghcr.io/me/agent:1 --privileged' }) }, 'custom_image.image', /not a valid image reference/],
    ['an unpinned reference', { custom_image: customImage({ image: 'ghcr.io/me/agent' }) }, 'custom_image.image', /must pin a tag or a digest/],
    [':latest', { custom_image: customImage({ image: 'ghcr.io/me/agent:latest' }) }, 'custom_image.image', /must pin a tag or a digest/],
    ['a registry off the allow list', { custom_image: customImage({ image: 'registry.evil.example/me/agent:1.0' }) }, 'custom_image.image', /registry registry\.evil\.example is not allowed for custom images \(allowed: docker\.io, ghcr\.io, 127\.0\.0\.1:5000\)/],
    ['another port of an allowed host', { custom_image: customImage({ image: '127.0.0.1:5001/team/agent:1.0' }) }, 'custom_image.image', /registry 127\.0\.0\.1:5001 is not allowed/],
    ['root', { custom_image: customImage({ user: 'root' }) }, 'custom_image.user', /not allowed: custom images always run as uid:gid 1000:1000, never as root/],
    ['uid 0', { custom_image: customImage({ user: '0:0' }) }, 'custom_image.user', /never as root/],
    ['privileged mode', { custom_image: customImage({ privileged: true }) }, 'custom_image.privileged', /never run privileged/],
    ['capabilities', { custom_image: customImage({ cap_add: ['SYS_ADMIN'] }) }, 'custom_image.cap_add', /all capabilities are dropped/],
    ['host networking', { custom_image: customImage({ network_mode: 'host' }) }, 'custom_image.network_mode', /never the host network/],
    ['host paths', { custom_image: customImage({ volumes: ['/:/host', '/var/run/docker.sock:/var/run/docker.sock'] }) }, 'custom_image.volumes', /no host paths/],
    ['devices', { custom_image: customImage({ devices: ['/dev/kvm'] }) }, 'custom_image.devices', /never run privileged/],
    ['its own command', { custom_image: customImage({ command: ['sh'] }) }, 'custom_image.command', /own entrypoint and command run/],
    ['anything else', { custom_image: customImage({ labels: { a: 'b' } }) }, 'custom_image.labels', /is not allowed \(custom_image takes image, internal_port, health_path, env, registry_auth\)/],
    ['an env name that is not one', { custom_image: customImage({ env: { '1BAD': 'x' } }) }, 'custom_image.env.1BAD', /not a valid variable name/],
    ['an env name with a dash', { custom_image: customImage({ env: { 'MY-VAR': 'x' } }) }, 'custom_image.env.MY-VAR', /not a valid variable name/],
    ['an env value that is not a string', { custom_image: customImage({ env: { COUNT: 3 } }) }, 'custom_image.env.COUNT', /must be a string/],
    ['PORT', { custom_image: customImage({ env: { PORT: '1' } }) }, 'custom_image.env.PORT', /is set by the platform and cannot be overridden/],
    ['the gateway token', { custom_image: customImage({ env: { BERTH_GATEWAY_TOKEN: 'mine' } }) }, 'custom_image.env.BERTH_GATEWAY_TOKEN', /set by the platform/],
    ['any BERTH_ variable', { custom_image: customImage({ env: { berth_anything: 'x' } }) }, 'custom_image.env.berth_anything', /set by the platform/],
    ['the LLM key', { custom_image: customImage({ env: { ANTHROPIC_API_KEY: 'sk-ant-other' } }) }, 'custom_image.env.ANTHROPIC_API_KEY', /set by the platform/],
    ["another provider's key", { custom_image: customImage({ env: { OPENAI_BASE_URL: 'http://evil' } }) }, 'custom_image.env.OPENAI_BASE_URL', /set by the platform/],
    ['the Telegram token', { custom_image: customImage({ env: { TELEGRAM_BOT_TOKEN: 'x' } }) }, 'custom_image.env.TELEGRAM_BOT_TOKEN', /set by the platform/],
    ['port 0', { custom_image: customImage({ internal_port: 0 }) }, 'custom_image.internal_port', /1-65535/],
    ['port 70000', { custom_image: customImage({ internal_port: 70000 }) }, 'custom_image.internal_port', /1-65535/],
    ['a port as text', { custom_image: customImage({ internal_port: '9090' }) }, 'custom_image.internal_port', /port number/],
    ['a relative health path', { custom_image: customImage({ health_path: 'health' }) }, 'custom_image.health_path', /absolute URL path/],
    ['a health path with a space', { custom_image: customImage({ health_path: '/a b' }) }, 'custom_image.health_path', /absolute URL path/],
    ['no image', { custom_image: { internal_port: 9090, health_path: '/ready' } }, 'custom_image.image', /is required/],
    ['registry_auth without a password', { custom_image: customImage({ registry_auth: { username: 'me' } }) }, 'custom_image.registry_auth.password', /is required/],
    ['registry_auth with more', { custom_image: customImage({ registry_auth: { username: 'me', password: 'pw', server: 'other.example' } }) }, 'custom_image.registry_auth', /server/],
    ['custom_image that is not an object', { custom_image: 'ghcr.io/me/agent:1.0' }, 'custom_image', /object/],
    ['no custom_image for the custom agent', { custom_image: undefined }, 'custom_image', /is required for Custom image: \{image, internal_port, health_path, env\?, registry_auth\?\}/],
    ['config instead of custom_image', { custom_image: undefined, config: { image: IMAGE, internal_port: 9090, health_path: '/ready' } }, 'config', /takes its settings from custom_image/],
    ['custom_image for a catalogue agent', { agent_type_id: 'myrai', config: {} }, 'custom_image', /Myrai runs the platform's image; custom_image is only for the custom agent/],
  ];

  it.each(BAD)('signup with %s: 400 naming the field, nothing written', async (_what, over, field, message) => {
    const before = await counts();
    const r = await http.post('/api/signup').send(signupBody(over)).expect(400);
    expect(r.body.fields).toHaveProperty([field]);
    expect(r.body.fields[field].join('; ')).toMatch(message);
    expect(await counts()).toEqual(before);
  });

  let token = '';
  let slotId = '';

  it('signup with a custom image and its registry credentials: the slot keeps its settings, the credentials are sealed and never shown', async () => {
    const env = { GREETING: 'hello $HOME {{x}}', MODE: 'fast' };
    const r = await http
      .post('/api/signup')
      .send(signupBody({ custom_image: customImage({ env, registry_auth: { username: USERNAME, password: PASSWORD } }) }))
      .expect(201);
    token = r.body.token;
    slotId = r.body.slot.id;
    expect(r.body.slot).toMatchObject({ agent_type_id: 'custom', config: { image: IMAGE, internal_port: 9090, health_path: '/ready', env } });
    expect(r.body.slot.secrets).toEqual({ llm_key: expect.stringMatching(/^…/), registry_auth: '…' });
    const secrets = await t.db.prisma.secret.findMany({ where: { slot_id: slotId } });
    expect(secrets.map((s) => s.kind)).toEqual(expect.arrayContaining(['llm_key', 'registry_auth']));
    const sealed = secrets.find((s) => s.kind === 'registry_auth')!;
    expect(sealed.key_hint).toBe('…');
    expect(Buffer.from(sealed.ciphertext).toString('utf8')).not.toContain(PASSWORD);

    const auth = { authorization: `Bearer ${token}` };
    const answers = [
      r.text,
      (await http.get('/api/slot').set(auth).expect(200)).text,
      (await http.get('/api/me').set(auth).expect(200)).text,
      (await http.get(`/api/slots/${slotId}`).set(auth).expect(200)).text,
      (await http.get(`/api/deployments/${r.body.deployment.id}`).set(auth).expect(200)).text,
    ];
    const compose = await http.get('/api/slot/compose').set(auth).expect(200);
    answers.push(compose.text, String(compose.headers['x-berth-variables']));
    // The export runs the same hardening: never root, a read-only root with its /tmp, the image's own port.
    expect(compose.text).toMatch(/user: 1000:1000|user: "1000:1000"/);
    expect(compose.text).toContain('read_only: true');
    expect(compose.text).toContain('/tmp:rw,nosuid,nodev,size=64m');
    expect(compose.text).toContain(`image: ${IMAGE}`);
    expect(compose.text).toContain('GREETING: hello $$HOME {{x}}');

    const p = t.db.prisma;
    const rows = JSON.stringify({
      deployments: await p.deployment.findMany({ where: { slot_id: slotId } }),
      events: await p.deploymentEvent.findMany({}),
      slot: await p.slot.findUnique({ where: { id: slotId } }),
      customers: await p.customer.findMany({}),
      audit: await p.auditEvent.findMany({}),
    }, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    for (const text of [...answers, rows, logs.join('\n')]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(USERNAME);
    }
  });

  it('a switch is checked the same way: 400 naming the field, no deployment, the slot unchanged', async () => {
    const auth = { authorization: `Bearer ${token}` };
    // The signup's deployment waits for a node; end it so a switch may start.
    await t.db.prisma.deployment.updateMany({ where: { slot_id: slotId }, data: { status: 'failed', finished_at: new Date() } });
    const before = { ...(await counts()), slot: await t.db.prisma.slot.findUnique({ where: { id: slotId } }) };
    const switchBody = (ci: Record<string, unknown>) => ({ agent_type_id: 'custom', llm_provider_id: 'anthropic', custom_image: ci });
    for (const [ci, field] of [
      [customImage({ image: 'quay.io/me/agent:1.0' }), 'custom_image.image'],
      [customImage({ privileged: true }), 'custom_image.privileged'],
      [customImage({ network_mode: 'host' }), 'custom_image.network_mode'],
      [customImage({ volumes: ['/etc:/etc'] }), 'custom_image.volumes'],
      [customImage({ user: '0' }), 'custom_image.user'],
      [customImage({ env: { PORT: '80' } }), 'custom_image.env.PORT'],
    ] as const) {
      const r = await http.post('/api/slot/switch').set(auth).send(switchBody(ci)).expect(400);
      expect(r.body.fields).toHaveProperty([field]);
    }
    expect({ ...(await counts()), slot: await t.db.prisma.slot.findUnique({ where: { id: slotId } }) }).toEqual(before);
  });

  it('a switch to another custom image without credentials parks the old ones (for a rollback) and leaves the slot none', async () => {
    const auth = { authorization: `Bearer ${token}` };
    const kinds = async () => (await t.db.prisma.secret.findMany({ where: { slot_id: slotId } })).map((s) => s.kind).sort();
    const r = await http
      .post('/api/slot/switch')
      .set(auth)
      .send({ agent_type_id: 'custom', llm_provider_id: 'anthropic', custom_image: customImage({ image: 'ghcr.io/someone/public:2.0' }) })
      .expect(202);
    const d = await t.db.prisma.deployment.findUniqueOrThrow({ where: { id: r.body.deployment.id } });
    expect(d.desired_spec).toMatchObject({ agent_type_id: 'custom', config: { image: 'ghcr.io/someone/public:2.0', internal_port: 9090, health_path: '/ready' } });
    // The old credentials wait (sealed) for a rollback; the slot has none of its own meanwhile.
    expect(await kinds()).toContain('registry_auth_previous');
    expect(await kinds()).not.toContain('registry_auth');
    const answer = (await http.get('/api/slot').set(auth).expect(200)).text;
    expect(answer).not.toContain(PASSWORD);
    expect(JSON.stringify(await t.db.prisma.deployment.findMany({}), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(PASSWORD);
  });
});
