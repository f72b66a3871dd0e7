import { adminApiTestApp } from '../testing/core-test.module';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { defaultTemplatesDir } from '@berth/catalog';
import { createTestDatabase, type TestDatabase } from '../database/test-database';
import { ImagesModule } from '../images/images.module';
import { MarketplaceModule } from '../marketplace/marketplace.module';
import { RegistryService } from '../registry/registry.service';
import { AdminModule } from './admin.module';

/**
 * Community agents through the admin API (POST /api/admin/agent-types) over HTTP with the real
 * validation, guard and error filter, on a real database: a good definition appears in the
 * marketplace and survives a catalogue sync; each bad one is a 400 naming the field, and nothing
 * is stored.
 */
describe(`admin: community agent types (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
  let tdb: TestDatabase;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  const auth = { authorization: `Bearer ${ADMIN}` };
  const myraiDir = join(defaultTemplatesDir(), 'agents', 'myrai');

  /** Myrai's manifest and templates under another id: a plausible community agent. */
  function definition(id: string, change: (m: Record<string, unknown>) => void = () => undefined, compose?: string) {
    const manifest = JSON.parse(readFileSync(join(myraiDir, 'manifest.json'), 'utf8'));
    Object.assign(manifest, { id, name: `Community ${id}` });
    delete manifest.upstream;
    change(manifest);
    return {
      manifest,
      templates: {
        compose: compose ?? readFileSync(join(myraiDir, 'compose.yaml.hbs'), 'utf8'),
        config_overlay: readFileSync(join(myraiDir, 'config.json.hbs'), 'utf8'),
      },
    };
  }
  const post = (body: unknown, headers = auth) => http.post('/api/admin/agent-types').set(headers).send(body as object);
  const stored = async () => (await app.get(RegistryService).listAgentTypes()).map((a) => a.id);

  beforeAll(async () => {
    tdb = await createTestDatabase();
    app = await adminApiTestApp(ADMIN, tdb.db, [ImagesModule, AdminModule, MarketplaceModule]);
    http = request(app.getHttpServer());
  });

  afterAll(async () => {
    await app?.close();
    await tdb?.drop();
  });

  it('is for the admin only', async () => {
    await post(definition('hermit'), {} as typeof auth).expect(401);
    expect(await stored()).not.toContain('hermit');
  });

  it('adds a good definition: in the marketplace, rendered from its own stored templates, kept by a catalogue sync', async () => {
    const r = await post(definition('hermit')).expect(201);
    expect(r.body).toMatchObject({ id: 'hermit', name: 'Community hermit', status: 'ready', is_active: true, source: 'api' });
    expect(r.body.template_files.compose).toContain('MYRAI_SERVER_PORT');
    const market = (await http.get('/api/marketplace/agents').expect(200)).body.agents;
    expect(market.find((a: { id: string }) => a.id === 'hermit')).toMatchObject({ status: 'ready', is_active: true });
    await app.get(RegistryService).sync();
    expect((await app.get(RegistryService).findAgentType('hermit'))!).toMatchObject({ source: 'api', is_active: true });
    // Taken now.
    const again = await post(definition('hermit')).expect(409);
    expect(again.body.fields['manifest.id'][0]).toMatch(/taken/);
  });

  it.each([
    ['a port out of range', (m: Record<string, unknown>) => (m.internal_port = 70000), 'manifest.internal_port', /<= 65535/],
    ['an unknown provider', (m: Record<string, unknown>) => (m.llm_providers = { nope: { key_env: 'NOPE_KEY' } }), 'manifest.llm_providers', /unknown provider 'nope'/],
    [':latest on a ready agent', (m: Record<string, unknown>) => (m.base_image = 'ghcr.io/someone/agent:latest'), 'manifest.base_image', /latest/],
    ['a bad id', (m: Record<string, unknown>) => (m.id = 'Not An Id'), 'manifest.id', /pattern/],
  ])('refuses %s with a 400 naming the field, and stores nothing', async (_what, change, field, message) => {
    const r = await post(definition('broken-one', change)).expect(400);
    expect(r.body.fields[field].join(' ')).toMatch(message);
    expect(await stored()).not.toContain('broken-one');
  });

  it('refuses a template the policy refuses (privileged, host network, host paths), naming templates.compose', async () => {
    const compose = readFileSync(join(myraiDir, 'compose.yaml.hbs'), 'utf8');
    for (const [evil, message] of [
      ['    privileged: true\n', /privileged/],
      ['    network_mode: host\n', /network_mode/],
    ] as const) {
      const r = await post(definition('sneaky', undefined, compose.replace('    image: {{Image}}\n', `    image: {{Image}}\n${evil}`))).expect(400);
      expect(r.body.fields['templates.compose'].join(' ')).toMatch(message);
    }
    expect(compose).toContain('user: "1000:1000"');
    const root = await post(definition('sneaky', undefined, compose.replace('user: "1000:1000"', 'user: "0:0"'))).expect(400);
    expect(root.body.fields['templates.compose'].join(' ')).toMatch(/root/);
    const hostPath = compose.replace('      - type: volume\n        source: data', '      - type: bind\n        source: /etc');
    expect((await post(definition('sneaky', undefined, hostPath)).expect(400)).body.fields['templates.compose'].join(' ')).toMatch(/volume|bind/);
    const broken = await post(definition('sneaky', undefined, '{{#if}}')).expect(400);
    expect(Object.keys(broken.body.fields)).toEqual(['templates.compose']);
    expect((await post({ manifest: definition('sneaky').manifest }).expect(400)).body.fields.templates).toBeDefined();
    expect(await stored()).not.toContain('sneaky');
  });
});
