import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import request from 'supertest';
import { createApp, type CoordinatorApp } from '../apps/coordinator/src/app';
import { createTestDatabase, type TestDatabase } from '../apps/coordinator/src/database/test-database';

/**
 * The coordinator over HTTP against a real database (PGlite in a data dir, or a schema of its
 * own on DATABASE_URL): marketplace, signup, login, me, slots, admin, health, metrics, secrets.
 */
const pass = process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite';
const ADMIN = 'admin-token-0123456789abcdef';
const LLM_KEY = 'sk-ant-api03-SECRETkeyDoNotLeak1234567890wxyz';
const TG_TOKEN = '123456789:AAHsecretTelegramTokenDoNotLeak_9876';

describe(`coordinator e2e (${pass})`, () => {
  let dir: string;
  let t: TestDatabase;
  let c: CoordinatorApp;
  let http: ReturnType<typeof request>;
  const logs: string[] = [];
  const logger: LoggerService = {
    log: (m: unknown) => logs.push(String(m)),
    error: (m: unknown, ...r: unknown[]) => logs.push([m, ...r].map(String).join(' ')),
    warn: (m: unknown) => logs.push(String(m)),
    debug: (m: unknown) => logs.push(String(m)),
    verbose: (m: unknown) => logs.push(String(m)),
  };
  const written: string[] = [];
  const origOut = process.stdout.write.bind(process.stdout);
  const origErr = process.stderr.write.bind(process.stderr);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-e2e-'));
    process.stdout.write = ((chunk: string | Uint8Array, ...rest: never[]) => (written.push(String(chunk)), origOut(chunk, ...rest))) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]) => (written.push(String(chunk)), origErr(chunk, ...rest))) as typeof process.stderr.write;
    t = await createTestDatabase({ pgliteDir: join(dir, 'pgdata'), migrateNow: false });
    c = await createApp({
      env: { BERTH_DATA_DIR: dir, BERTH_ADMIN_TOKEN: ADMIN, BERTH_LOGIN_FAILURES_PER_ACCOUNT: '3', LOG_LEVEL: 'verbose' },
      db: t.db,
      logger,
    });
    http = request(c.app.getHttpServer());
  });

  afterAll(async () => {
    process.stdout.write = origOut;
    process.stderr.write = origErr;
    await c?.close();
    await t?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  const signupBody = (over: Record<string, unknown> = {}) => ({
    email: `user${Math.random().toString(36).slice(2, 10)}@example.com`,
    password: 'harbour-lights-42!',
    agent_type_id: 'myrai',
    llm_provider_id: 'anthropic',
    llm_api_key: LLM_KEY,
    telegram_bot_token: TG_TOKEN,
    config: { model: 'claude-sonnet' },
    ...over,
  });

  let customerToken = '';
  let slotId = '';
  const bodies: string[] = [];
  const keep = (r: request.Response) => (bodies.push(r.text), r);

  it('generates the master key with mode 0600', () => {
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
  });

  it('health, readiness, metrics and OpenAPI', async () => {
    expect((await http.get('/healthz').expect(200)).body).toEqual({ status: 'ok' });
    expect((await http.get('/readyz').expect(200)).body.database).toBe('ok');
    const doc = await http.get('/api/docs/openapi.json').expect(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/signup', '/api/marketplace/agents', '/api/admin/agent-types/{id}']));
    await http.get('/api/marketplace/stacks');
    const m = await http.get('/metrics').expect(200);
    expect(m.text).toMatch(/berth_http_requests_total\{method="GET",route="\/api\/marketplace\/stacks",status="200"\} 1/);
    expect(m.text).toMatch(/berth_http_request_duration_seconds_bucket/);
    expect(m.text).toMatch(/process_cpu_user_seconds_total/);
  });

  it('marketplace lists agents with providers, add-ons and prices; providers; curated stacks', async () => {
    const a = keep(await http.get('/api/marketplace/agents').expect(200)).body;
    const by = Object.fromEntries(a.agents.map((x: { id: string }) => [x.id, x]));
    expect(by.openclaw.required_addons).toEqual(['memory']);
    expect(by.openclaw.monthly_price_usd).toBe(39);
    expect(by.myrai.required_addons).toEqual([]);
    expect(by.myrai.monthly_price_usd).toBe(29);
    expect(by.myrai.supported_providers).not.toContain('gemini');
    expect(by.zeptoclaw.supported_providers.sort()).toEqual(['anthropic', 'custom', 'deepseek', 'gemini', 'groq', 'openai', 'openrouter']);
    expect(by.zeptoclaw.supported_providers).not.toContain('mistral');
    expect(by.zeptoclaw.status).toBe('ready');
    const p = (await http.get('/api/marketplace/llm-providers').expect(200)).body;
    expect(p.llm_providers.map((x: { id: string }) => x.id)).toEqual(expect.arrayContaining(['openai', 'anthropic', 'groq', 'openrouter', 'gemini', 'mistral', 'deepseek', 'custom']));
    const s = (await http.get('/api/marketplace/stacks').expect(200)).body;
    expect(s.source).toBe('curated');
    expect(s.stacks[0]).toMatchObject({ rank: 1, agent_type_id: 'openclaw', llm_provider_id: 'anthropic' });
  });

  it('signup: 400 with a message per field, nothing written', async () => {
    const r = await http
      .post('/api/signup')
      .send(signupBody({ email: 'not-an-email', password: 'password1', agent_type_id: 'myrai', llm_provider_id: 'gemini', telegram_bot_token: 'nope', config: { nope: 1 } }))
      .expect(400);
    expect(r.body.fields.email).toEqual(['must be a valid email address']);
    expect(r.body.fields.telegram_bot_token[0]).toMatch(/Telegram bot token/);
    const r2 = await http.post('/api/signup').send(signupBody({ password: 'password1', llm_provider_id: 'gemini', config: { nope: 1 } })).expect(400);
    expect(r2.body.fields.password).toEqual(['is too common; choose a less guessable password']);
    expect(r2.body.fields.llm_provider_id[0]).toMatch(/Myrai does not support Google Gemini/);
    expect(r2.body.fields.config[0]).toMatch(/additional properties 'nope'/);
    const r3 = await http.post('/api/signup').send(signupBody({ llm_api_key: 'sk-wrong-format-for-anthropic-xxxxxxxx', agent_type_id: 'custom' })).expect(400);
    expect(r3.body.fields.llm_api_key[0]).toMatch(/does not look like a Anthropic key/);
    expect(r3.body.fields.custom_image[0]).toMatch(/is required for Custom image/);
    expect(await t.db.prisma.customer.count()).toBe(0);
  });

  it('signup: OpenClaw without the memory add-on is refused naming the add-on; with it, accepted', async () => {
    const r = await http.post('/api/signup').send(signupBody({ agent_type_id: 'openclaw', config: {} })).expect(400);
    expect(r.body.fields.addons[0]).toMatch(/'memory' add-on/);
    const ok = await http.post('/api/signup').send(signupBody({ agent_type_id: 'openclaw', config: {}, addons: { memory: true } })).expect(201);
    expect(ok.body.slot.resources).toEqual({ memory_mb: 1024, cpu: 0.25 });
    expect(ok.body.slot.monthly_price_usd).toBe(39);
    expect(ok.body.slot.secrets).toEqual({ llm_key: '…wxyz', telegram_token: '…9876', gateway_token: expect.stringMatching(/^….{4}$/) });
  });

  it('signup: 201 with customer, pending slot and token; 409 for a taken email', async () => {
    const body = signupBody({ email: 'Alice@Example.com' });
    const r = keep(await http.post('/api/signup').send(body).expect(201));
    expect(r.body.customer).toMatchObject({ email: 'alice@example.com', agent_type_id: 'myrai', llm_provider_id: 'anthropic', custom_config: { model: 'claude-sonnet' } });
    expect(r.body.slot).toMatchObject({ state: 'pending', agent_type_id: 'myrai', resources: { memory_mb: 512, cpu: 0.25 } });
    expect(r.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    customerToken = r.body.token;
    slotId = r.body.slot.id;
    const dup = await http.post('/api/signup').send({ ...body, email: 'alice@example.com' }).expect(409);
    expect(dup.body.fields.email).toEqual(['is already registered']);
    const customers = await t.db.prisma.customer.count({ where: { email: 'alice@example.com' } });
    expect(customers).toBe(1);
  });

  it('413 for an oversized body, 400 for malformed JSON, never 500', async () => {
    const big = await http.post('/api/signup').send(signupBody({ config: { model: 'x'.repeat(70_000) } })).expect(413);
    expect(big.body).toEqual({ error: 'request body too large' });
    const bad = await http.post('/api/signup').set('Content-Type', 'application/json').send('{"email": ').expect(400);
    expect(bad.body).toEqual({ error: 'malformed JSON body' });
    await http.post('/api/signup').send([1, 2]).expect(400);
    await http.post('/api/signup').set('Content-Type', 'application/json').send('null').expect(400);
  });

  it('me and own slot; someone else\'s slot is 404', async () => {
    const me = keep(await http.get('/api/me').set('Authorization', `Bearer ${customerToken}`).expect(200));
    expect(me.body.customer.email).toBe('alice@example.com');
    expect(me.body.slots.map((s: { id: string }) => s.id)).toEqual([slotId]);
    keep(await http.get(`/api/slots/${slotId}`).set('Authorization', `Bearer ${customerToken}`).expect(200));
    const other = await http.post('/api/signup').send(signupBody()).expect(201);
    await http.get(`/api/slots/${slotId}`).set('Authorization', `Bearer ${other.body.token}`).expect(404);
    await http.get(`/api/slots/not-a-uuid`).set('Authorization', `Bearer ${other.body.token}`).expect(404);
    await http.get('/api/me').expect(401);
    await http.get('/api/me').set('Authorization', 'Bearer nope').expect(401);
  });

  it('login, logout revokes the token, failed logins per account are limited', async () => {
    await http.post('/api/auth/login').send({ email: 'alice@example.com', password: 'wrong-password-1' }).expect(401);
    const ok = await http.post('/api/auth/login').send({ email: 'ALICE@example.com', password: 'harbour-lights-42!' }).expect(200);
    const tok = ok.body.token as string;
    await http.get('/api/me').set('Authorization', `Bearer ${tok}`).expect(200);
    await http.post('/api/auth/logout').set('Authorization', `Bearer ${tok}`).expect(204);
    await http.get('/api/me').set('Authorization', `Bearer ${tok}`).expect(401);
    for (let i = 0; i < 3; i++) await http.post('/api/auth/login').send({ email: 'alice@example.com', password: 'wrong-password-1' }).expect(401);
    await http.post('/api/auth/login').send({ email: 'alice@example.com', password: 'harbour-lights-42!' }).expect(429);
  });

  it('admin: customers get 403; pin base_image and deactivate survive a catalogue sync', async () => {
    await http.get('/api/admin/agent-types').set('Authorization', `Bearer ${customerToken}`).expect(403);
    await http.get('/api/admin/agent-types').expect(401);
    await http.patch('/api/admin/agent-types/myrai').set('Authorization', `Bearer ${ADMIN}`).send({ base_image: 'not an image' }).expect(400);
    const pin = await http.patch('/api/admin/agent-types/myrai').set('Authorization', `Bearer ${ADMIN}`).send({ base_image: 'ghcr.io/gmsas95/myrai:1.0.1' }).expect(200);
    expect(pin.body.operator_overrides).toEqual(['base_image']);
    await http.patch('/api/admin/agent-types/nope').set('Authorization', `Bearer ${ADMIN}`).send({ is_active: true }).expect(404);
    await http.patch('/api/admin/llm-providers/groq').set('Authorization', `Bearer ${ADMIN}`).send({ is_active: false }).expect(200);
    const { RegistryService } = await import('../apps/coordinator/src/registry/registry.service');
    await c.app.get(RegistryService).sync();
    const list = (await http.get('/api/admin/agent-types').set('Authorization', `Bearer ${ADMIN}`).expect(200)).body.agent_types;
    expect(list.find((a: { id: string }) => a.id === 'myrai').base_image).toBe('ghcr.io/gmsas95/myrai:1.0.1');
    const providers = (await http.get('/api/marketplace/llm-providers').expect(200)).body.llm_providers.map((p: { id: string }) => p.id);
    expect(providers).not.toContain('groq');
    await http.post('/api/signup').send(signupBody({ agent_type_id: 'myrai', llm_provider_id: 'groq', llm_api_key: 'gsk_abcdefghijklmnopqrstuvwxyz', config: {} })).expect(400);
  });

  it('stacks rank by active slots once there are slots', async () => {
    const s = (await http.get('/api/marketplace/stacks').expect(200)).body;
    expect(s.source).toBe('usage');
    expect(s.stacks.slice(0, 2)).toMatchObject([
      { rank: 1, agent_type_id: 'myrai', llm_provider_id: 'anthropic', active_slots: 2 },
      { rank: 2, agent_type_id: 'openclaw', llm_provider_id: 'anthropic', active_slots: 1 },
    ]);
  });

  it('no secret in the database files, API answers or logs', async () => {
    const secrets = [LLM_KEY, TG_TOKEN];
    for (const b of bodies) for (const s of secrets) expect(b).not.toContain(s);
    const text = logs.join('\n') + written.join('');
    for (const s of secrets) expect(text).not.toContain(s);
    // Every row of every table, as text.
    const tables = await t.db.sql.query<{ table_name: string }>(`SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`);
    for (const { table_name } of tables) {
      const rows = await t.db.sql.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM "${table_name}" x`);
      for (const r of rows) for (const s of secrets) expect(r.j).not.toContain(s);
    }
    const secretRows = await t.db.sql.query(`SELECT count(*)::int AS n FROM secrets`);
    expect(secretRows[0]).toEqual({ n: expect.any(Number) });
    if (pass === 'PGlite') {
      await t.db.sql.exec('CHECKPOINT');
      const files: string[] = [];
      const walk = (d: string) => readdirSync(d, { withFileTypes: true }).forEach((e) => (e.isDirectory() ? walk(join(d, e.name)) : files.push(join(d, e.name))));
      walk(join(dir, 'pgdata'));
      expect(files.length).toBeGreaterThan(10);
      // The email is stored in clear: the scan would find it, so it can find a key too.
      let sawEmail = false;
      for (const f of files) {
        const bytes = readFileSync(f);
        if (bytes.includes(Buffer.from('alice@example.com'))) sawEmail = true;
        for (const s of secrets) expect(bytes.includes(Buffer.from(s))).toBe(false);
      }
      expect(sawEmail).toBe(true);
    }
  });
});
