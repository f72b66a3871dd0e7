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
    // Myrai 0.1.0 reads GROQ_API_KEY (internal/config loadStandardEnvVars) but calls every vendor OpenAI-style: no Gemini.
    expect(by.myrai.llm_providers.groq).toEqual({ key_env: 'GROQ_API_KEY', base_url_env: 'GROQ_BASE_URL' });
    expect(by.myrai.llm_providers.gemini).toBeUndefined();
    // OpenClaw 2026.9.6 ships no Groq, Mistral or DeepSeek plugin.
    expect(Object.keys(by.openclaw.llm_providers)).not.toEqual(expect.arrayContaining(['groq']));
    for (const a of cat.agents.filter((x) => x.status === 'ready' && x.id !== 'custom')) expect(a.upstream?.facts.length).toBeGreaterThanOrEqual(5);
    // ZeptoClaw 0.9.2 (src/providers/mod.rs RUNTIME_SUPPORTED_PROVIDERS): more than Anthropic and OpenAI; no Mistral.
    expect(Object.keys(by.zeptoclaw.llm_providers).sort()).toEqual(['anthropic', 'custom', 'deepseek', 'gemini', 'groq', 'openai', 'openrouter']);
    expect(by.zeptoclaw.health_endpoint).toBe('/readyz');
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

describe('community agents: extra catalogue folders (BERTH_CATALOGUE_DIRS)', () => {
  let extra: string;
  beforeEach(() => {
    extra = mkdtempSync(join(tmpdir(), 'berth-community-'));
  });
  afterEach(() => rmSync(extra, { recursive: true, force: true }));

  /** A community agent folder: Myrai's files under another id. */
  const addAgent = (id: string, change: (j: Record<string, unknown>) => void = () => undefined) => {
    cpSync(join(defaultTemplatesDir(), 'agents', 'myrai'), join(extra, id), { recursive: true });
    const file = join(extra, id, 'manifest.json');
    const j = JSON.parse(readFileSync(file, 'utf8'));
    j.id = id;
    j.name = `Community ${id}`;
    delete j.upstream;
    change(j);
    writeFileSync(file, JSON.stringify(j));
  };

  it('adds the folders beside the built-in agents, with their template files', () => {
    addAgent('echo-agent');
    const cat = loadCatalogue({ extraAgentDirs: [extra] });
    expect(cat.agents.map((a) => a.id)).toEqual(expect.arrayContaining(['echo-agent', 'myrai', 'openclaw']));
    expect(cat.agents.map((a) => a.id)).toEqual([...cat.agents.map((a) => a.id)].sort());
    expect(cat.templates['echo-agent'].compose).toBe(readFileSync(join(defaultTemplatesDir(), 'agents', 'myrai', 'compose.yaml.hbs'), 'utf8'));
    expect(cat.templates.openclaw.config_overlay).toContain('telegram');
    expect(cat.templates.myrai.options).toBeUndefined();
  });

  it('refuses an id defined twice, naming both files', () => {
    addAgent('myrai');
    expect(() => loadCatalogue({ extraAgentDirs: [extra] })).toThrow(/community-.*myrai\/manifest\.json: .*agent id 'myrai' is already defined by .*templates\/agents\/myrai\/manifest\.json/);
  });

  it('validates a community manifest the same way, naming the field', () => {
    addAgent('bad-agent', (j) => {
      j.internal_port = 70000;
      j.llm_providers = { nope: { key_env: 'X' } };
    });
    expect(() => loadCatalogue({ extraAgentDirs: [extra] })).toThrow(/bad-agent\/manifest\.json: \/internal_port must be <= 65535/);
    expect(() => loadCatalogue({ extraAgentDirs: [join(extra, 'missing')] })).toThrow(/no such folder/);
  });

  it('needs a compose template beside the manifest', () => {
    addAgent('no-compose');
    rmSync(join(extra, 'no-compose', 'compose.yaml.hbs'));
    expect(() => loadCatalogue({ extraAgentDirs: [extra] })).toThrow(/no-compose\/manifest\.json: compose\.yaml\.hbs is missing/);
  });
});
