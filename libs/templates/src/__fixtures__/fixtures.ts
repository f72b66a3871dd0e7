import type { AgentManifest } from '@berth/catalog';
import { GiB, MiB, NANO_CPUS, type SlotResources } from '@berth/domain';
import type { SlotValues } from '../render-slot';

/** A made-up agent with two published ports, a private one, a config file and env bindings. */
export const fixtureManifest: AgentManifest = {
  id: 'fixture',
  name: 'Fixture',
  description: 'test agent',
  language: 'node',
  version: '1.2.3',
  status: 'ready',
  base_image: 'ghcr.io/example/fixture:1.2.3',
  internal_port: 7000,
  health_endpoint: '/ready',
  health_port_name: 'health',
  start_period_seconds: 30,
  min_memory: '256M',
  min_cpu: '0.2',
  data_dir: '/home/app/.fixture',
  ports: [
    { name: 'gateway', container_port: 7000, publish: true },
    { name: 'bridge', container_port: 7001, publish: true },
    { name: 'health', container_port: 9000, publish: false },
  ],
  config_file: 'fixture.json',
  config_template: { gateway: { mode: 'local' }, model_list: [] },
  env_vars: [],
  config_schema: { type: 'object' },
  llm_providers: {
    openai: { key_env: 'OPENAI_API_KEY', base_url_env: 'OPENAI_BASE_URL' },
    inconfig: { key_config_path: '/model_list/0/api_key' },
  },
  telegram_env: 'TELEGRAM_BOT_TOKEN',
};

export const fixtureCompose = `services:
  agent:
    image: {{Image}}
    command: ["fixture", "serve", "--port", {{str ports.gateway.internal}}, "--name", {{config.name}}]
    user: "1000:1000"
    environment:
      HOME: /home/app
      GATEWAY_TOKEN: {{GatewayToken}}
      GREETING: {{config.greeting}}
      NAME_AND_ID: {{concat config.name "-" AgentId}}
{{#if LLMEnvKey}}
      {{LLMEnvKey}}: {{LLMKey}}
{{/if}}
{{#if LLMBaseUrlEnvKey}}
      {{LLMBaseUrlEnvKey}}: {{LLMBaseUrl}}
{{/if}}
{{#if TelegramEnvKey}}
      {{TelegramEnvKey}}: {{TelegramToken}}
{{/if}}
    ports:
      - name: gateway
        target: {{InternalPort}}
        published: {{ExternalPort}}
      - name: bridge
        target: {{InternalPortBridge}}
        published: {{ExternalPortBridge}}
    expose: [{{ports.health.internal}}]
    volumes:
      - type: volume
        source: data
        target: {{DataDir}}
    deploy:
      resources:
        limits:
          memory: {{MemoryBytes}}
          cpus: {{Cpus}}
          pids: {{PidsLimit}}
volumes:
  data: {}
`;

export const fixtureConfigOverlay = `{
  "agent": { "name": {{config.name}}, "greeting": {{config.greeting}}, "tags": {{config.tags}} },
  "model_list": [ { "model": {{Model}}, "api_base": {{LLMBaseUrl}} } ]
}
`;

export const planResources: SlotResources = { memoryBytes: 512 * MiB, nanoCpus: 0.25 * NANO_CPUS, pidsLimit: 256 };
export const bigPlan: SlotResources = { memoryBytes: 1 * GiB, nanoCpus: 0.25 * NANO_CPUS, pidsLimit: 256 };

export function benignValues(overrides: Partial<SlotValues> = {}): SlotValues {
  return {
    provider: { id: 'openai', apiKey: 'sk-benign-key-0123456789', baseUrl: 'https://llm.example.com/v1' },
    gatewayToken: 'gw-token-benign-0123456789',
    telegramToken: '123456:telegram-benign',
    config: { name: 'alice', greeting: 'hello', tags: ['a', 'b'], model: 'gpt-test' },
    resources: planResources,
    ...overrides,
  };
}
