/**
 * The agent and LLM-provider catalogue as files: templates/agents/<id>/manifest.json and
 * templates/llm-providers.json. Field names follow the seed's columns (snake_case).
 * The coordinator syncs these into `agent_types` / `llm_providers` at start.
 */
export type AgentStatus = 'ready' | 'planned';

export interface AgentPortManifest {
  /** Stable name used by the compose template and the deploy spec, e.g. 'gateway', 'bridge', 'health'. */
  name: string;
  container_port: number;
  /** Published on the host from the node's port pool. */
  publish: boolean;
}

/** How a provider's key (and optional base URL) reaches this agent. */
export interface AgentProviderBinding {
  /** Env var that receives the key, e.g. 'ANTHROPIC_API_KEY' or 'ZEPTOCLAW_PROVIDERS_ANTHROPIC_API_KEY'. */
  key_env?: string;
  /** Env var that receives the provider's base_url when one is set. */
  base_url_env?: string;
  /** Where the key goes in the agent's config file instead of env (JSON pointer into config_template). */
  key_config_path?: string;
}

export interface AgentManifest {
  id: string;
  name: string;
  description: string;
  language: string;
  /** Manifest version; bump when any fact changes so the sync updates the database. */
  version: string;
  status: AgentStatus;
  /** Pinned image (tag or digest), never :latest for a ready agent. */
  base_image: string;
  internal_port: number;
  health_endpoint: string;
  /** Port name (in `ports`) that serves the health endpoint; default: the first port. */
  health_port_name?: string;
  /** Seconds the agent may take before its first healthy probe. */
  start_period_seconds: number;
  min_memory: string;
  min_cpu: string;
  /** Where the agent keeps its state inside the container (the slot's data volume). */
  data_dir: string;
  ports: AgentPortManifest[];
  /** JSON template for the agent's config file (seed column config_template), or null. */
  config_template: unknown;
  /** Path of the config file inside data_dir that config_template renders to, when any. */
  config_file?: string;
  /** Env vars the agent needs (seed column env_vars). */
  env_vars: string[];
  /** JSON Schema (draft 2020-12) for the customer's `config` object. */
  config_schema: Record<string, unknown>;
  /** Provider id -> how its key reaches the agent. Only these providers are offered with this agent. */
  llm_providers: Record<string, AgentProviderBinding>;
  /** Env var for a Telegram bot token, when the agent supports Telegram. */
  telegram_env?: string;
  /** Free-form notes shown to operators (e.g. "needs the memory add-on"). */
  notes?: string[];
  /** The upstream project the facts above were read from, at a pinned release. */
  upstream?: AgentUpstream;
}

/** Where an agent's facts come from: its own source, at the release the manifest pins. */
export interface AgentUpstream {
  /** `owner/name` of the public repository, e.g. 'sipeed/picoclaw'. */
  repository: string;
  /** The release (tag) the facts were read at; the image pin should be the same release. */
  release: string;
  /** One entry per fact: what it is and the file (and symbol or line) in the repository that shows it. */
  facts: { fact: string; source: string }[];
}

export interface LlmProviderManifest {
  id: string;
  name: string;
  description: string;
  env_key: string;
  base_url?: string | null;
  /** Regex source a key must match (checked at signup), e.g. '^sk-ant-[A-Za-z0-9_-]{20,}$'. */
  key_pattern: string;
  /** Human description of the key format for error messages, e.g. 'starts with sk-ant-'. */
  key_hint: string;
  /** True for the custom OpenAI-compatible endpoint: base_url must be given by the customer. */
  requires_base_url?: boolean;
}
