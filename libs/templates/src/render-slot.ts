import { InvalidArgumentError, GiB, MiB, type SlotResources } from '@berth/domain';
import type { AgentManifest } from '@berth/catalog';
import { composeToSpec, type SlotDeploySpecDraft } from './compose-to-spec';
import { buildConfigFile } from './config-file';
import { exportCompose, type ExportSecret } from './export';
import type { AgentTemplate } from './load';
import { effectiveAgent, hostPortPlaceholder, type TemplateValues } from './values';

/** What the deployments service knows about one deployment. */
export interface SlotValues {
  provider: { id: string; apiKey: string; baseUrl?: string | null };
  /** Generated per slot (never shown to anybody but the agent). */
  gatewayToken: string;
  telegramToken?: string | null;
  /** The customer's config, already validated against the manifest's config_schema. */
  config: Record<string, unknown>;
  /** The plan's limits (base plan plus add-ons). */
  resources: SlotResources;
  /** Operator's image pin; default manifest.base_image. */
  image?: string;
}

export interface RenderSlotInput {
  manifest: AgentManifest;
  template: AgentTemplate;
  values: SlotValues;
}

export interface RenderedSlot {
  spec: SlotDeploySpecDraft;
  /** The rendered compose file. Contains secrets: never log it or send it to a client. */
  composeYaml: string;
  /** For GET /api/slot/compose: secrets replaced by ${VARIABLE} placeholders. */
  redactedComposeYaml: string;
  /** Variables the exported file needs in its .env. */
  exportVariables: string[];
}

function parseMinMemory(s: string): number {
  const m = /^(\d+(?:\.\d+)?)([KMG])i?B?$/i.exec(s.trim());
  if (!m) return 0;
  return Math.round(Number(m[1]) * { K: 1024, M: MiB, G: GiB }[m[2].toUpperCase() as 'K' | 'M' | 'G']);
}

/** The template's values for one deployment (exported for tests and for docs). */
export function buildTemplateValues(manifest: AgentManifest, template: AgentTemplate, values: SlotValues): TemplateValues {
  const binding = manifest.llm_providers[values.provider.id];
  if (!binding) {
    throw new InvalidArgumentError(`${manifest.name} does not support the LLM provider '${values.provider.id}'`, {
      llm_provider_id: [`supported: ${Object.keys(manifest.llm_providers).join(', ')}`],
    });
  }
  const agent = effectiveAgent(manifest, template.options, values.config, values.image);
  const ports = Object.fromEntries(
    agent.ports.map((p) => [p.name, { internal: p.containerPort, external: hostPortPlaceholder(p.name, p.containerPort) }]),
  );
  const first = agent.ports[0];
  const bridge = agent.ports.find((p) => p.name === 'bridge');
  const telegram = values.telegramToken ? values.telegramToken : null;
  const baseUrl = values.provider.baseUrl ? values.provider.baseUrl : null;
  return {
    AgentId: manifest.id,
    Image: agent.image,
    ports,
    InternalPort: first.containerPort,
    ExternalPort: hostPortPlaceholder(first.name, first.containerPort),
    InternalPortBridge: bridge?.containerPort ?? null,
    ExternalPortBridge: bridge ? hostPortPlaceholder(bridge.name, bridge.containerPort) : null,
    LLMProvider: values.provider.id,
    LLMEnvKey: binding.key_env ?? null,
    LLMKey: values.provider.apiKey,
    LLMBaseUrlEnvKey: baseUrl && binding.base_url_env ? binding.base_url_env : null,
    LLMBaseUrl: baseUrl,
    GatewayToken: values.gatewayToken,
    TelegramEnvKey: telegram && manifest.telegram_env ? manifest.telegram_env : null,
    TelegramToken: telegram,
    HasTelegram: telegram !== null,
    Model:
      typeof values.config.model === 'string' && values.config.model !== ''
        ? values.config.model
        : (template.options.default_models?.[values.provider.id] ?? null),
    config: values.config,
    DataDir: manifest.data_dir,
    MemoryBytes: values.resources.memoryBytes,
    Cpus: values.resources.nanoCpus / 1e9,
    PidsLimit: values.resources.pidsLimit,
  };
}

/**
 * Render an agent's templates for one deployment, check the result against the platform
 * policy and build the node daemon's deploy spec. Throws InvalidArgumentError (every
 * violation listed) when the template, a value or the plan is not acceptable.
 */
export function renderSlot({ manifest, template, values }: RenderSlotInput): RenderedSlot {
  if (template.agentTypeId !== manifest.id) {
    throw new InvalidArgumentError(`template '${template.agentTypeId}' does not belong to agent type '${manifest.id}'`);
  }
  const minMemory = parseMinMemory(manifest.min_memory);
  if (values.resources.memoryBytes < minMemory) {
    throw new InvalidArgumentError(
      `${manifest.name} needs at least ${manifest.min_memory} of memory; the slot has ${Math.round(values.resources.memoryBytes / MiB)}M: add the memory add-on`,
      { addons: ['memory'] },
    );
  }
  const tv = buildTemplateValues(manifest, template, values);
  const agent = effectiveAgent(manifest, template.options, values.config, values.image);
  const binding = manifest.llm_providers[values.provider.id];

  const composeYaml = template.compose.render(tv);
  const file = buildConfigFile({
    path: manifest.config_file,
    base: manifest.config_template,
    overlay: template.configOverlay,
    values: tv,
    keyPointer: binding.key_config_path,
    key: values.provider.apiKey,
  });
  const files = file ? [file] : [];
  const healthPortName = manifest.health_port_name ?? agent.ports[0].name;
  const spec = composeToSpec(composeYaml, {
    agentTypeId: manifest.id,
    agentVersion: manifest.version,
    agent,
    image: agent.image,
    dataDir: manifest.data_dir,
    resources: values.resources,
    health: { path: agent.healthPath, portName: healthPortName, startPeriodMs: manifest.start_period_seconds * 1000 },
    files,
  });

  const secrets: ExportSecret[] = [
    { variable: binding.key_env ?? 'LLM_API_KEY', value: values.provider.apiKey },
    { variable: 'BERTH_GATEWAY_TOKEN', value: values.gatewayToken },
  ];
  if (tv.TelegramToken) secrets.push({ variable: manifest.telegram_env ?? 'TELEGRAM_BOT_TOKEN', value: tv.TelegramToken });
  const redactedComposeYaml = exportCompose({
    composeYaml,
    secrets,
    files,
    dataDir: manifest.data_dir,
    resources: values.resources,
    portPlaceholders: Object.values(tv.ports).map((p) => p.external),
    agentTypeId: manifest.id,
  });
  const exportVariables = secrets.filter((s) => redactedComposeYaml.includes('${' + s.variable + '}')).map((s) => s.variable);
  return { spec, composeYaml, redactedComposeYaml, exportVariables };
}
