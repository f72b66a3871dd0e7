import YAML from 'yaml';
import { GiB, InvalidArgumentError } from '@berth/domain';
import { benignValues, bigPlan, fixtureCompose, fixtureConfigOverlay, fixtureManifest, planResources } from './__fixtures__/fixtures';
import { parseAgentTemplate } from './load';
import { renderSlot } from './render-slot';
import type { SlotValues } from './render-slot';

const template = parseAgentTemplate('fixture', { compose: fixtureCompose, configOverlay: fixtureConfigOverlay });
const render = (values: SlotValues) => renderSlot({ manifest: fixtureManifest, template, values });

/** Keys and nesting of a parsed document, with every scalar replaced by its type. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(shape);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  }
  return v === null ? 'null' : typeof v;
}

describe('renderSlot with benign values', () => {
  const out = render(benignValues());

  it('builds the deploy spec from the compose file and the manifest', () => {
    expect(out.spec).toEqual({
      agentTypeId: 'fixture',
      agentVersion: '1.2.3',
      image: 'ghcr.io/example/fixture:1.2.3',
      command: ['fixture', 'serve', '--port', '7000', '--name', 'alice'],
      user: '1000:1000',
      env: {
        HOME: '/home/app',
        GATEWAY_TOKEN: 'gw-token-benign-0123456789',
        GREETING: 'hello',
        NAME_AND_ID: 'alice-fixture',
        OPENAI_API_KEY: 'sk-benign-key-0123456789',
        OPENAI_BASE_URL: 'https://llm.example.com/v1',
        TELEGRAM_BOT_TOKEN: '123456:telegram-benign',
      },
      ports: [
        { name: 'gateway', containerPort: 7000, publish: true },
        { name: 'bridge', containerPort: 7001, publish: true },
        { name: 'health', containerPort: 9000, publish: false },
      ],
      health: { path: '/ready', portName: 'health', startPeriodMs: 30000, intervalMs: 5000, timeoutMs: 3000, failureThreshold: 3 },
      resources: planResources,
      dataMountPath: '/home/app/.fixture',
      files: [expect.objectContaining({ path: 'fixture.json', mode: 0o600 })],
      readOnlyRootfs: false,
      capAdd: [],
    });
  });

  it('writes the config file: manifest base + overlay, nulls dropped', () => {
    expect(JSON.parse(out.spec.files![0].content)).toEqual({
      gateway: { mode: 'local' },
      agent: { name: 'alice', greeting: 'hello', tags: ['a', 'b'] },
      model_list: [{ model: 'gpt-test', api_base: 'https://llm.example.com/v1' }],
    });
  });

  it('puts the key at key_config_path when the provider binding says so, and no key env', () => {
    const r = render(benignValues({ provider: { id: 'inconfig', apiKey: 'sk-in-config-0123456789' } }));
    expect(JSON.parse(r.spec.files![0].content).model_list[0].api_key).toBe('sk-in-config-0123456789');
    expect(Object.values(r.spec.env)).not.toContain('sk-in-config-0123456789');
    expect(r.redactedComposeYaml).not.toContain('sk-in-config-0123456789');
    expect(r.redactedComposeYaml).toContain('${LLM_API_KEY}');
  });

  it('leaves optional values out when absent', () => {
    const r = render(benignValues({ telegramToken: null, provider: { id: 'openai', apiKey: 'sk-x-0123456789' } }));
    expect(r.spec.env).not.toHaveProperty('TELEGRAM_BOT_TOKEN');
    expect(r.spec.env).not.toHaveProperty('OPENAI_BASE_URL');
  });

  it('refuses a provider the agent does not support', () => {
    expect(() => render(benignValues({ provider: { id: 'groq', apiKey: 'gsk_x' } }))).toThrow(/does not support the LLM provider 'groq'/);
  });

  it('refuses a plan below the agent minimum, naming the memory add-on', () => {
    expect(() => renderSlot({ manifest: { ...fixtureManifest, min_memory: '1024M' }, template, values: benignValues() })).toThrow(
      /memory add-on/,
    );
    expect(() => renderSlot({ manifest: { ...fixtureManifest, min_memory: '1024M' }, template, values: benignValues({ resources: bigPlan }) })).not.toThrow();
  });

  it('applies an operator image pin', () => {
    expect(render(benignValues({ image: 'registry.local/fixture:1.2.4' })).spec.image).toBe('registry.local/fixture:1.2.4');
  });

  it('enforces the plan limits stated by the template (they cannot differ)', () => {
    const raising = parseAgentTemplate('fixture', { compose: fixtureCompose.replace('memory: {{MemoryBytes}}', 'memory: 8g') });
    expect(() => renderSlot({ manifest: fixtureManifest, template: raising, values: benignValues() })).toThrow(
      /deploy.resources.limits.memory must be the plan's/,
    );
    expect(render(benignValues({ resources: { ...planResources, memoryBytes: 1 * GiB } })).spec.resources.memoryBytes).toBe(GiB);
  });
});

describe('injection attempts stay inert', () => {
  const nasty: string[] = [
    'x\nprivileged: true',
    '\n    privileged: true',
    '"\n    privileged: true\n    x: "',
    "'; privileged: true; '",
    '}} {{{Image}}} {{#each}}',
    '{{GatewayToken}}',
    'a: b',
    'a # comment',
    '&anchor value',
    '*anchor',
    '<<: *anchor',
    '!!python/object:os.system',
    '- item\n- item2',
    'ls\u2028    privileged: true',
    'ps\u2029    privileged: true',
    'nel\u0085    privileged: true',
    '\r\n    privileged: true',
    '${HOME}$(id)`id`',
    '---\nservices: {}\n...',
    'volumes:\n      - /var/run/docker.sock:/var/run/docker.sock',
    ' ',
    'x'.repeat(60000),
    '😀\u200b\ufeff',
  ];

  const benign = render(benignValues());
  const benignShape = shape(YAML.parse(benign.composeYaml));
  const benignFileShape = shape(JSON.parse(benign.spec.files![0].content));

  it.each(nasty.map((s, i) => [i, s]))('value #%i lands verbatim and changes no structure', (_i, s) => {
    const values = benignValues({
      provider: { id: 'openai', apiKey: s, baseUrl: s },
      gatewayToken: s,
      telegramToken: s,
      config: { name: s, greeting: s, tags: [s, s], model: s },
    });
    const out = render(values);
    expect(shape(YAML.parse(out.composeYaml))).toEqual(benignShape);
    expect(shape(JSON.parse(out.spec.files![0].content))).toEqual(benignFileShape);
    expect(out.spec.env.OPENAI_API_KEY).toBe(s);
    expect(out.spec.env.GREETING).toBe(s);
    expect(out.spec.env.TELEGRAM_BOT_TOKEN).toBe(s);
    expect(out.spec.command).toEqual(['fixture', 'serve', '--port', '7000', '--name', s]);
    expect(Object.keys(out.spec).sort()).toEqual(Object.keys(benign.spec).sort());
    expect(JSON.parse(out.spec.files![0].content).agent.tags).toEqual([s, s]);
    // The exported file never carries the secret, and parses to the same structure plus hardening.
    if (s.trim().length >= 4) {
      expect(out.redactedComposeYaml).not.toContain(s);
    }
    expect(shape(YAML.parse(out.redactedComposeYaml))).toEqual(shape(YAML.parse(benign.redactedComposeYaml)));
  });

  it('refuses a value with a lone surrogate instead of rendering it', () => {
    expect(() => render(benignValues({ config: { name: 'a\udc00' } }))).toThrow(InvalidArgumentError);
  });

  it('refuses an over-long value', () => {
    expect(() => render(benignValues({ config: { name: 'x'.repeat(70000) } }))).toThrow(/longer than/);
  });

  it('refuses a NUL character in an env value (a container cannot receive it)', () => {
    expect(() => render(benignValues({ config: { greeting: 'a\u0000b' } }))).toThrow(/NUL/);
  });
});

describe('export', () => {
  const values = benignValues();
  const out = render(values);
  const exported = YAML.parse(out.redactedComposeYaml);
  const svc = exported.services.agent;

  it('replaces every secret by a ${VARIABLE} and lists the variables', () => {
    for (const secret of [values.provider.apiKey, values.gatewayToken, values.telegramToken!]) {
      expect(out.redactedComposeYaml).not.toContain(secret);
    }
    expect(svc.environment.OPENAI_API_KEY).toBe('${OPENAI_API_KEY}');
    expect(svc.environment.GATEWAY_TOKEN).toBe('${BERTH_GATEWAY_TOKEN}');
    expect(svc.environment.TELEGRAM_BOT_TOKEN).toBe('${TELEGRAM_BOT_TOKEN}');
    expect(out.exportVariables.sort()).toEqual(['BERTH_GATEWAY_TOKEN', 'OPENAI_API_KEY', 'TELEGRAM_BOT_TOKEN']);
    expect(out.redactedComposeYaml).toMatch(/Put these in \.env.*OPENAI_API_KEY/);
  });

  it('keeps host ports as compose interpolation with the container port as default', () => {
    expect(svc.ports[0]).toEqual({ name: 'gateway', target: 7000, published: '${GATEWAY_HOST_PORT:-7000}' });
  });

  it('escapes $ in customer text so compose does not interpolate it', () => {
    const r = render(benignValues({ config: { name: 'alice', greeting: 'cost $5 ${HOME}' } }));
    expect(YAML.parse(r.redactedComposeYaml).services.agent.environment.GREETING).toBe('cost $$5 $${HOME}');
  });

  it('writes the hardening and the plan limits, and inlines the config file without secrets', () => {
    expect(svc.cap_drop).toEqual(['ALL']);
    expect(svc.security_opt).toEqual(['no-new-privileges:true']);
    expect(svc.deploy.resources.limits).toEqual({ memory: `${planResources.memoryBytes}b`, cpus: '0.25', pids: 256 });
    expect(svc.volumes).toEqual([{ type: 'volume', source: 'data', target: '/home/app/.fixture' }]);
    expect(svc.configs).toEqual([{ source: 'fixture_config_0', target: '/home/app/.fixture/fixture.json', mode: 0o444 }]);
    const r = render(benignValues({ provider: { id: 'inconfig', apiKey: 'sk-in-config-0123456789' } }));
    const content = YAML.parse(r.redactedComposeYaml).configs.fixture_config_0.content as string;
    expect(JSON.parse(content).model_list[0].api_key).toBe('${LLM_API_KEY}');
  });
});
