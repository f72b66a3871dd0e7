import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultTemplatesDir } from '@berth/catalog';
import { createTestDatabase, type TestDatabase } from '../database/test-database';
import { RegistryRepository } from './registry.repository';
import { catalogueFactory, RegistryService } from './registry.service';

describe(`catalogue sync (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let t: TestDatabase;
  let dir: string;
  let svc: RegistryService;
  beforeAll(async () => {
    t = await createTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'berth-sync-'));
    cpSync(defaultTemplatesDir(), dir, { recursive: true });
    // Every shipped agent is ready now: this copy keeps one planned, to see planned -> ready.
    const f = join(dir, 'agents/custom/manifest.json');
    writeFileSync(f, JSON.stringify({ ...JSON.parse(readFileSync(f, 'utf8')), status: 'planned' }));
    svc = new RegistryService(new RegistryRepository(t.db), catalogueFactory(dir));
  });
  afterAll(async () => {
    await t.drop();
    rmSync(dir, { recursive: true, force: true });
  });
  const editMyrai = (f: (j: Record<string, unknown>) => void) => {
    const file = join(dir, 'agents/myrai/manifest.json');
    const j = JSON.parse(readFileSync(file, 'utf8'));
    f(j);
    writeFileSync(file, JSON.stringify(j));
  };

  it('creates everything, then is a no-op', async () => {
    const first = await svc.sync();
    expect(first.agents.created).toHaveLength(6);
    expect(first.providers.created).toHaveLength(8);
    const myrai = await svc.findAgentType('myrai');
    expect(myrai).toMatchObject({ is_active: true, status: 'ready', internal_port: 8080, health_endpoint: '/api/health', min_memory: '512M' });
    expect((await svc.findAgentType('zeptoclaw'))!).toMatchObject({ is_active: true, status: 'ready' });
    expect((await svc.findAgentType('custom'))!.is_active).toBe(false); // still planned
    const second = await svc.sync();
    expect(second.agents.updated).toEqual([]);
    expect(second.providers.updated).toEqual([]);
  });

  it('a new version updates the row but keeps operator overrides; removed entries are kept', async () => {
    await svc.patchAgentType('myrai', { base_image: 'registry.local/myrai:pinned', is_active: false });
    editMyrai((j) => {
      j.version = '1.1.0';
      j.base_image = 'ghcr.io/gmsas95/myrai:1.1.0';
      j.description = 'new description';
    });
    rmSync(join(dir, 'agents/picoclaw'), { recursive: true });
    const r = await svc.sync();
    expect(r.agents.updated).toEqual(['myrai']);
    const myrai = (await svc.findAgentType('myrai'))!;
    expect(myrai).toMatchObject({ version: '1.1.0', description: 'new description', base_image: 'registry.local/myrai:pinned', is_active: false });
    expect(myrai.operator_overrides).toEqual(['base_image', 'is_active']);
    expect(myrai.manifest.base_image).toBe('ghcr.io/gmsas95/myrai:1.1.0');
    expect(await svc.findAgentType('picoclaw')).not.toBeNull();
  });

  it('a planned agent that becomes ready is activated, unless the operator decided', async () => {
    const file = join(dir, 'agents/custom/manifest.json');
    const j = JSON.parse(readFileSync(file, 'utf8'));
    expect((await svc.findAgentType('custom'))!.is_active).toBe(false);
    writeFileSync(file, JSON.stringify({ ...j, status: 'ready', version: '9.9.9' }));
    await svc.sync();
    expect((await svc.findAgentType('custom'))!.is_active).toBe(true);
    await svc.patchProvider('groq', { is_active: false });
    await svc.sync();
    expect((await svc.findProvider('groq'))!.is_active).toBe(false);
  });
});
