/**
 * Every real templates/agents/<id>/ pair (manifest.json + compose.yaml.hbs) renders with
 * sample values, passes the policy and follows the agent's published facts (AGENTS.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import type { AgentManifest } from '@berth/catalog';
import { GiB, MiB, NANO_CPUS, type SlotResources } from '@berth/domain';
import { loadAgentTemplate } from './load';
import { renderSlot, type SlotValues } from './render-slot';

const agentsDir = resolve(__dirname, '../../../templates/agents');
const ids = readdirSync(agentsDir).sort();
const manifest = (id: string) => JSON.parse(readFileSync(join(agentsDir, id, 'manifest.json'), 'utf8')) as AgentManifest;
const plan: SlotResources = { memoryBytes: 1 * GiB, nanoCpus: 0.25 * NANO_CPUS, pidsLimit: 512 };

const sampleConfig: Record<string, Record<string, unknown>> = {
  custom: { image: 'registry.example.com/me/agent:2.0', internal_port: 9999, health_path: '/status', env: { GREETING: 'hi: {{x}}\n', MODE: 'fast' } },
  openclaw: { model: 'anthropic/claude-sonnet-4-5', telegram_allow_from: ['12345'] },
  nanobot: { model: 'anthropic/claude-sonnet-4-5', telegram_allow_from: ['12345'] },
  picoclaw: { model: 'openai/gpt-4o-mini', telegram_allow_from: ['12345'] },
};

function values(id: string, providerId: string, over: Partial<SlotValues> = {}): SlotValues {
  return {
    provider: { id: providerId, apiKey: 'sk-sample-0123456789abcdef', baseUrl: providerId === 'custom' ? 'http://llm.local:4000/v1' : null },
    gatewayToken: 'gwt-sample-0123456789abcdef',
    telegramToken: '123456789:AAsample-telegram-token',
    config: sampleConfig[id] ?? { model: 'some-model' },
    resources: plan,
    ...over,
  };
}

function render(id: string, providerId?: string, over: Partial<SlotValues> = {}) {
  const m = manifest(id);
  return renderSlot({ manifest: m, template: loadAgentTemplate(agentsDir, id), values: values(id, providerId ?? Object.keys(m.llm_providers)[0], over) });
}

it('covers the six agent types', () => {
  expect(ids).toEqual(['custom', 'myrai', 'nanobot', 'openclaw', 'picoclaw', 'zeptoclaw']);
});

describe.each(ids)('%s', (id) => {
  const m = manifest(id);

  it.each(Object.keys(m.llm_providers))('renders with provider %s and passes the policy', (providerId) => {
    const { spec, redactedComposeYaml } = render(id, providerId);
    expect(spec.agentTypeId).toBe(id);
    expect(spec.agentVersion).toBe(m.version);
    expect(spec.resources).toEqual(plan);
    expect(spec.dataMountPath).toBe(m.data_dir);
    expect(spec.image).not.toMatch(/:latest$/);
    expect(spec.health?.path).toBe(id === 'custom' ? '/status' : m.health_endpoint);
    const key = m.llm_providers[providerId];
    if (key.key_env) expect(spec.env[key.key_env]).toBe('sk-sample-0123456789abcdef');
    if (key.key_config_path) expect(spec.files?.[0].content).toContain('sk-sample-0123456789abcdef');
    if (m.telegram_env) expect(spec.env[m.telegram_env]).toBe('123456789:AAsample-telegram-token');
    for (const secret of ['sk-sample-0123456789abcdef', 'gwt-sample-0123456789abcdef', '123456789:AAsample-telegram-token']) {
      expect(redactedComposeYaml).not.toContain(secret);
    }
    expect(YAML.parse(redactedComposeYaml).services).toBeDefined();
  });

  it('uses the manifest image, or the operator pin', () => {
    if (id === 'custom') return;
    expect(render(id).spec.image).toBe(m.base_image);
    expect(render(id, undefined, { image: 'mirror.local/pinned:9' }).spec.image).toBe('mirror.local/pinned:9');
  });

  it('keeps every customer value inert', () => {
    const evil = '"\n    privileged: true\n    network_mode: host\n#';
    const good = render(id).spec;
    const bad = render(id, undefined, {
      telegramToken: evil,
      provider: { id: Object.keys(m.llm_providers)[0], apiKey: evil },
      config: id === 'custom' ? sampleConfig.custom : { ...(sampleConfig[id] ?? {}), model: evil },
    }).spec;
    expect(Object.keys(bad).sort()).toEqual(Object.keys(good).sort());
    expect(Object.keys(bad.env).sort()).toEqual(Object.keys(good.env).sort());
    expect(bad.ports).toEqual(good.ports);
  });
});

describe('agent facts (AGENTS.md)', () => {
  it('OpenClaw runs the pinned image with --bind lan, its token and gateway.mode=local, gated on /readyz', () => {
    const { spec } = render('openclaw', 'anthropic');
    const cmd = spec.command!.join(' ');
    expect(cmd).toContain('gateway');
    expect(cmd).toContain('--bind lan');
    expect(cmd).not.toMatch(/npm/);
    expect(spec.env.OPENCLAW_GATEWAY_TOKEN).toBe('gwt-sample-0123456789abcdef');
    expect(spec.env.OPENCLAW_GATEWAY_PORT).toBe('18789');
    expect(spec.user).toBe('1000:1000');
    expect(spec.ports.map((p) => [p.name, p.containerPort, p.publish])).toEqual([
      ['gateway', 18789, true],
      ['bridge', 18790, true],
    ]);
    expect(spec.health).toMatchObject({ path: '/readyz', portName: 'gateway' });
    const file = spec.files!.find((f) => f.path === 'openclaw.json')!;
    const cfg = JSON.parse(file.content);
    expect(cfg.gateway.mode).toBe('local');
    expect(cfg.agents.defaults.model.primary).toBe('anthropic/claude-sonnet-4-5');
    expect(cfg.channels.telegram.allowFrom).toEqual(['12345']);
  });

  it('OpenClaw is refused on the 512 MB base plan, naming the memory add-on', () => {
    expect(() => render('openclaw', 'anthropic', { resources: { ...plan, memoryBytes: 512 * MiB } })).toThrow(/memory add-on/);
  });

  it('Nanobot and ZeptoClaw run `gateway`', () => {
    expect(render('nanobot').spec.command).toEqual(['gateway']);
    // ZeptoClaw's image runs its arguments as they are when not root (docker-entrypoint.sh): name the binary.
    expect(render('zeptoclaw').spec.command).toEqual(['zeptoclaw', 'gateway']);
  });

  it('ZeptoClaw is probed on its private health port 9090', () => {
    const { spec } = render('zeptoclaw');
    expect(spec.health).toMatchObject({ path: '/readyz', portName: 'health' });
    expect(spec.ports).toContainEqual({ name: 'health', containerPort: 9090, publish: false });
  });

  it('PicoClaw listens on 0.0.0.0 and takes its key from config.json (version 3: model_list[].api_keys)', () => {
    const { spec } = render('picoclaw', 'openai');
    expect(spec.env.PICOCLAW_GATEWAY_HOST).toBe('0.0.0.0');
    const cfg = JSON.parse(spec.files![0].content);
    expect(cfg.version).toBe(3);
    expect(cfg.model_list[0]).toMatchObject({ model_name: 'berth', model: 'openai/gpt-4o-mini', api_keys: ['sk-sample-0123456789abcdef'], enabled: true });
    expect(cfg.agents.defaults.model_name).toBe('berth');
    const dflt = JSON.parse(render('picoclaw', 'anthropic', { config: {} }).spec.files![0].content);
    expect(dflt.model_list[0].model).toBe('anthropic/claude-sonnet-4-5');
  });

  it('Myrai gets its gateway token', () => {
    expect(render('myrai').spec.env.MYRAI_GATEWAY_TOKEN).toBe('gwt-sample-0123456789abcdef');
  });

  it('a custom image runs with its own port and health path under the same policy', () => {
    const { spec } = render('custom');
    expect(spec.image).toBe('registry.example.com/me/agent:2.0');
    expect(spec.ports).toEqual([{ name: 'http', containerPort: 9999, publish: true }]);
    expect(spec.env.PORT).toBe('9999');
    expect(spec.capAdd).toEqual([]);
    // Never root, whatever the image says; a read-only root filesystem (the node adds a tmpfs /tmp).
    expect(spec.user).toBe('1000:1000');
    expect(spec.readOnlyRootfs).toBe(true);
    // The customer's plain env, as data.
    expect(spec.env).toMatchObject({ GREETING: 'hi: {{x}}\n', MODE: 'fast' });
  });

  it("a custom image's env cannot set what the platform sets (the rendered file would repeat the key)", () => {
    expect(() => render('custom', undefined, { config: { ...sampleConfig.custom, env: { PORT: '1' } } })).toThrow(/Map keys must be unique/);
  });

  it('a custom image reference that tries to smuggle options is refused', () => {
    for (const image of ['busybox:1\n    privileged: true', 'busybox:1 --privileged', '/var/run/docker.sock']) {
      expect(() => render('custom', undefined, { config: { image } })).toThrow(/image must be a plain image reference/);
    }
  });
});
