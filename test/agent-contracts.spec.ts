/**
 * Every catalogue agent's template, rendered for every provider it offers, gives its stand-in's
 * contract (libs/testing/src/standin/contracts/<id>.js: the env names, command and config file
 * the real program reads, from its upstream source) nothing to complain about and listens where
 * the node daemon probes it. The same contracts run inside the stand-in images on real Docker
 * (test/agents.e2e.ts); this is the fast check that a template mistake cannot pass.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AgentManifest } from '@berth/catalog';
import { GiB, NANO_CPUS } from '@berth/domain';
import { loadAgentTemplate, renderSlot, type SlotValues } from '@berth/templates';
import { agentContracts, checkAgentContract, contractInputOf } from '@berth/testing';

const agentsDir = resolve(__dirname, '../templates/agents');
const manifest = (id: string) => JSON.parse(readFileSync(join(agentsDir, id, 'manifest.json'), 'utf8')) as AgentManifest;
const KEY = 'sk-contract-0123456789abcdef';
const TELEGRAM = '123456789:AAcontract-telegram-token';

function render(id: string, providerId: string, over: Partial<SlotValues> = {}) {
  const m = manifest(id);
  return renderSlot({
    manifest: m,
    template: loadAgentTemplate(agentsDir, id),
    values: {
      provider: { id: providerId, apiKey: KEY, baseUrl: providerId === 'custom' ? 'http://llm.local:4000/v1' : null },
      gatewayToken: 'gwt-contract-0123456789abcdef',
      telegramToken: null,
      config: { telegram_allow_from: ['12345'] },
      resources: { memoryBytes: 2 * GiB, nanoCpus: 0.25 * NANO_CPUS, pidsLimit: 512 },
      ...over,
    },
  }).spec;
}

it('every catalogue agent but custom has a contract-enforcing stand-in', () => {
  const agents = readdirSync(agentsDir).filter((id) => id !== 'custom').sort();
  expect(agentContracts()).toEqual(agents);
});

describe.each(agentContracts())('%s', (id) => {
  const m = manifest(id);

  it.each(Object.keys(m.llm_providers))('with provider %s: nothing for the contract to refuse, reachable from outside the container', (providerId) => {
    const spec = render(id, providerId);
    const verdict = checkAgentContract(id, contractInputOf(spec));
    expect(verdict.problems).toEqual([]);
    expect(verdict.host ?? '0.0.0.0').toBe('0.0.0.0');
  });

  it('with a Telegram token: still nothing to refuse', () => {
    const spec = render(id, Object.keys(m.llm_providers)[0], { telegramToken: TELEGRAM });
    expect(checkAgentContract(id, contractInputOf(spec)).problems).toEqual([]);
  });

  it('catches a template that puts the key where the program does not read it', () => {
    const spec = render(id, Object.keys(m.llm_providers)[0]);
    const input = contractInputOf(spec);
    // Move the key away from everywhere it was put: env names get a wrong prefix, config files lose it.
    const env = Object.fromEntries(Object.entries(input.env).map(([k, v]) => (v === KEY ? [`WRONG_${k}`, v] : [k, v])));
    const files = Object.fromEntries(Object.entries(input.files).map(([p, c]) => [p, c.split(KEY).join('')]));
    expect(checkAgentContract(id, { ...input, env, files }).problems.length).toBeGreaterThan(0);
  });

  it('catches a template that does not start the long-running gateway', () => {
    const input = contractInputOf(render(id, Object.keys(m.llm_providers)[0]));
    expect(checkAgentContract(id, { ...input, argv: ['--help'] }).problems.length).toBeGreaterThan(0);
  });
});
