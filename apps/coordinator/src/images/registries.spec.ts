import { adminApiTestApp } from '../testing/core-test.module';
import { randomBytes } from 'node:crypto';
import { type INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AdminModule } from '../admin/admin.module';
import { createTestDatabase, type TestDatabase } from '../database/test-database';
import { RegistryService } from '../registry/registry.service';
import { ImageDigestsService } from './image-digests.service';
import { ImagesModule } from './images.module';
import { RegistryCredentialsService } from './registry-credentials.service';

/**
 * The registry credentials API over HTTP with the real validation, guard and error filter, on a
 * real database (PGlite, or PostgreSQL when DATABASE_URL is set): passwords go in, never out.
 */
describe(`admin registries API (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  const ADMIN = `admin-${randomBytes(16).toString('hex')}`;
  const PASSWORD = 'reg-PASSWORD-never-shown-9731';
  let tdb: TestDatabase;
  let app: INestApplication;
  let http: ReturnType<typeof request>;
  const auth = { authorization: `Bearer ${ADMIN}` };
  const put = (host: string, body: unknown) => http.put(`/api/admin/registries/${encodeURIComponent(host)}`).set(auth).send(body as object);

  beforeAll(async () => {
    tdb = await createTestDatabase();
    app = await adminApiTestApp(ADMIN, tdb.db, [ImagesModule, AdminModule]);
    http = request(app.getHttpServer());
  });

  afterAll(async () => {
    await app?.close();
    await tdb?.drop();
  });

  it('is for the admin only', async () => {
    await http.get('/api/admin/registries').expect(401);
    await http.put('/api/admin/registries/127.0.0.1:5000').send({ username: 'u', password: 'p' }).expect(401);
    await http.delete('/api/admin/registries/127.0.0.1:5000').set({ authorization: 'Bearer not-the-admin-token-xxxxxxxx' }).expect(401);
  });

  it.each([
    ['not a host', 'host'],
    ['team', 'host'], // a Docker Hub namespace, not a registry
    ['index.docker.io', 'host'], // Docker Hub is docker.io in image references
    ['registry.example.com:99999999', 'host'],
  ])('refuses the host %s with 400 naming the field', async (host, field) => {
    const r = await put(host, { username: 'berth', password: PASSWORD }).expect(400);
    expect(Object.keys(r.body.fields)).toEqual([field]);
  });

  it('refuses a body without a username or password, with extra fields, or a colon in the username', async () => {
    const missing = await put('127.0.0.1:5000', {}).expect(400);
    expect(Object.keys(missing.body.fields).sort()).toEqual(['password', 'username']);
    expect(Object.keys((await put('127.0.0.1:5000', { username: 'u', password: 'p', email: 'x' }).expect(400)).body.fields)).toEqual(['_']);
    expect(Object.keys((await put('127.0.0.1:5000', { username: 'a:b', password: 'p' }).expect(400)).body.fields)).toEqual(['username']);
    expect((await http.get('/api/admin/registries').set(auth).expect(200)).body).toEqual({ registries: [] });
  });

  it('stores credentials sealed: lists hosts and usernames, never the password; the row holds no plaintext', async () => {
    const stored = await put('127.0.0.1:5000', { username: 'berth', password: PASSWORD }).expect(200);
    expect(stored.body).toEqual({ host: '127.0.0.1:5000', username: 'berth', created_at: expect.any(String), updated_at: expect.any(String) });
    await put('Registry.Example.COM', { username: 'robot$ci', password: `${PASSWORD}-2` }).expect(200);
    await put('docker.io', { username: 'hub-user', password: `${PASSWORD}-3` }).expect(200);

    const list = await http.get('/api/admin/registries').set(auth).expect(200);
    expect(list.body.registries.map((r: { host: string; username: string }) => [r.host, r.username])).toEqual([
      ['127.0.0.1:5000', 'berth'],
      ['docker.io', 'hub-user'],
      ['registry.example.com', 'robot$ci'],
    ]);
    expect(list.text).not.toContain(PASSWORD);
    expect(stored.text).not.toContain(PASSWORD);

    const rows = await tdb.db.sql.query<{ host: string; ciphertext: Uint8Array }>('SELECT * FROM registry_credentials');
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(Buffer.from(row.ciphertext).includes(Buffer.from('never-shown'))).toBe(false);
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
    const audit = await tdb.db.sql.query<Record<string, unknown>>(`SELECT * FROM audit_events WHERE action = 'registry.put'`);
    expect(audit.map((a) => a.target_id).sort()).toEqual(['127.0.0.1:5000', 'docker.io', 'registry.example.com']);
    expect(JSON.stringify(audit)).not.toContain(PASSWORD);
  });

  it("a deploy's image finds its registry's credentials, Docker Hub's by their familiar names too", async () => {
    const creds = app.get(RegistryCredentialsService);
    expect(await creds.authFor('127.0.0.1:5000/team/agent:1.0')).toEqual({ server: '127.0.0.1:5000', username: 'berth', password: PASSWORD });
    expect(await creds.authFor('registry.example.com/a/b@sha256:' + 'c'.repeat(64))).toMatchObject({ username: 'robot$ci', password: `${PASSWORD}-2` });
    expect(await creds.authFor('alpine:3.20')).toEqual({ server: 'docker.io', username: 'hub-user', password: `${PASSWORD}-3` });
    expect(await creds.authFor('ghcr.io/gmsas95/myrai:1.0.0')).toBeUndefined();
    expect(await creds.authFor('127.0.0.1:5001/team/agent:1.0')).toBeUndefined();
  });

  it('a sealed password moved to another host does not decrypt: the deploy gets a readable refusal', async () => {
    await tdb.db.sql.query(
      `UPDATE registry_credentials SET (ciphertext, iv, tag) = (SELECT ciphertext, iv, tag FROM registry_credentials WHERE host = 'docker.io') WHERE host = '127.0.0.1:5000'`,
    );
    await expect(app.get(RegistryCredentialsService).authFor('127.0.0.1:5000/team/agent:1.0')).rejects.toThrow(/cannot be decrypted.*store them again/);
    await put('127.0.0.1:5000', { username: 'berth2', password: PASSWORD }).expect(200);
    expect(await app.get(RegistryCredentialsService).authFor('127.0.0.1:5000/team/agent:1.0')).toMatchObject({ username: 'berth2', password: PASSWORD });
  });

  it('deletes credentials (204), then 404 when absent', async () => {
    await http.delete('/api/admin/registries/registry.example.com').set(auth).expect(204);
    await http.delete('/api/admin/registries/REGISTRY.example.com').set(auth).expect(404);
    await http.delete('/api/admin/registries/not%20a%20host').set(auth).expect(400);
    const hosts = (await http.get('/api/admin/registries').set(auth).expect(200)).body.registries.map((r: { host: string }) => r.host);
    expect(hosts).toEqual(['127.0.0.1:5000', 'docker.io']);
    const audit = await tdb.db.sql.query<Record<string, unknown>>(`SELECT target_id FROM audit_events WHERE action = 'registry.delete'`);
    expect(audit).toEqual([{ target_id: 'registry.example.com' }]);
  });

  it("the agent types show the digest their image first ran and a tag's change", async () => {
    const myrai = (await app.get(RegistryService).findAgentType('myrai'))!;
    const digests = app.get(ImageDigestsService);
    const [a, b] = [`sha256:${'1'.repeat(64)}`, `sha256:${'2'.repeat(64)}`];
    await digests.record({ agentTypeId: 'myrai', image: myrai.base_image!, digest: a, deploymentId: 'd1' });
    const first = (await http.get('/api/admin/agent-types').set(auth).expect(200)).body.agent_types;
    expect(first.find((x: { id: string }) => x.id === 'myrai')).toMatchObject({ image_digest: a, image_digest_changed: null });
    expect(first.find((x: { id: string }) => x.id === 'nanobot')).toMatchObject({ image_digest: null, image_digest_changed: null });
    expect(await digests.record({ agentTypeId: 'myrai', image: myrai.base_image!, digest: b, deploymentId: 'd2' })).toEqual({ from: a, to: b });
    const then = (await http.get('/api/admin/agent-types').set(auth).expect(200)).body.agent_types;
    expect(then.find((x: { id: string }) => x.id === 'myrai').image_digest_changed).toEqual({ from: a, to: b, at: expect.any(String) });
  });
});
