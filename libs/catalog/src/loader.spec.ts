import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CatalogueError, createConfigAjv, defaultTemplatesDir, loadCatalogue, parseMemoryMiB } from './loader';

describe('loadCatalogue (the committed templates/)', () => {
  const cat = loadCatalogue();

  it('ships the five published agents plus custom, and the eight providers', () => {
    expect(cat.agents.map((a) => a.id)).toEqual(['custom', 'myrai', 'nanobot', 'openclaw', 'picoclaw', 'zeptoclaw']);
    expect(cat.providers.map((p) => p.id)).toEqual(['anthropic', 'custom', 'deepseek', 'gemini', 'groq', 'mistral', 'openai', 'openrouter']);
  });

  it('follows the published facts (AGENTS.md)', () => {
    const by = Object.fromEntries(cat.agents.map((a) => [a.id, a]));
    expect(by.openclaw.ports.map((p) => p.container_port)).toEqual([18789, 18790]);
    expect(by.openclaw.health_endpoint).toBe('/readyz');
    expect(by.openclaw.status).toBe('ready');
    expect(by.myrai.status).toBe('ready');
    expect(by.myrai.llm_providers.groq).toBeUndefined();
    expect(Object.keys(by.zeptoclaw.llm_providers).sort()).toEqual(['anthropic', 'openai']);
    expect(by.zeptoclaw.health_endpoint).toBe('/healthz');
    expect(by.zeptoclaw.ports.find((p) => p.name === by.zeptoclaw.health_port_name)?.container_port).toBe(9090);
    expect(parseMemoryMiB(by.openclaw.min_memory)).toBeGreaterThan(512);
    for (const a of cat.agents.filter((x) => x.status === 'ready')) expect(a.base_image).not.toMatch(/:latest$/);
  });

  it('has key patterns that accept a plausible key and refuse garbage', () => {
    const p = Object.fromEntries(cat.providers.map((x) => [x.id, new RegExp(x.key_pattern)]));
    expect(p.anthropic.test('sk-ant-api03-abcdefghijklmnopqrstuvwxyz')).toBe(true);
    expect(p.anthropic.test('sk-abcdefghijklmnopqrstuvwxyz')).toBe(false);
    expect(p.openai.test('sk-proj-abcdefghijklmnopqrstuvwx')).toBe(true);
    expect(p.groq.test('gsk_abcdefghijklmnopqrstuvwx')).toBe(true);
    expect(p.custom.test('has space')).toBe(false);
  });

  it('config schemas compile and check customer config', () => {
    const openclaw = cat.agents.find((a) => a.id === 'openclaw')!;
    const v = createConfigAjv().compile(openclaw.config_schema);
    expect(v({ model: 'anthropic/claude' })).toBe(true);
    expect(v({ nope: 1 })).toBe(false);
  });
});

describe('loadCatalogue errors name the file', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-cat-'));
    cpSync(defaultTemplatesDir(), dir, { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const edit = (rel: string, f: (j: Record<string, unknown>) => void) => {
    const file = join(dir, rel);
    const j = JSON.parse(readFileSync(file, 'utf8'));
    f(j);
    writeFileSync(file, JSON.stringify(j));
  };

  it('rejects an agent with a missing field', () => {
    edit('agents/myrai/manifest.json', (j) => delete j.base_image);
    expect(() => loadCatalogue(dir)).toThrow(CatalogueError);
    expect(() => loadCatalogue(dir)).toThrow(/agents\/myrai\/manifest\.json.*base_image/);
  });

  it('rejects an unknown provider, an id/folder mismatch and :latest on a ready agent', () => {
    edit('agents/myrai/manifest.json', (j) => {
      (j.llm_providers as Record<string, unknown>).nope = { key_env: 'X' };
      j.id = 'other';
      j.base_image = 'ghcr.io/gmsas95/myrai:latest';
    });
    expect(() => loadCatalogue(dir)).toThrow(/unknown provider 'nope'.*|must equal its folder/);
    try {
      loadCatalogue(dir);
    } catch (e) {
      expect((e as CatalogueError).problems.join('\n')).toMatch(/folder name/);
      expect((e as CatalogueError).problems.join('\n')).toMatch(/not :latest/);
    }
  });

  it('rejects bad JSON and a bad key_pattern in llm-providers.json', () => {
    writeFileSync(join(dir, 'agents/nanobot/manifest.json'), '{ nope');
    expect(() => loadCatalogue(dir)).toThrow(/nanobot\/manifest\.json: not valid JSON/);
    edit('llm-providers.json', (j) => ((j.providers as Array<Record<string, unknown>>)[0].key_pattern = '(['));
    expect(() => loadCatalogue(dir)).toThrow(/llm-providers\.json: .*key_pattern is not a valid regex/);
  });
});
