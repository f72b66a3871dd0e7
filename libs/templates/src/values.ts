import { InvalidArgumentError } from '@berth/domain';
import type { AgentManifest } from '@berth/catalog';

/** One of the agent's ports as the template sees it. */
export interface TemplatePortValues {
  /** Port inside the container. */
  internal: number;
  /**
   * Host side: always the placeholder `${<NAME>_HOST_PORT:-<internal>}`. The node daemon
   * allocates the real host port from its pool; the placeholder is also valid compose
   * interpolation, so the exported file runs as is.
   */
  external: string;
}

/**
 * What a compose template (and a config overlay) can use. Seed-compatible names
 * (InternalPort, ExternalPort, InternalPortBridge, ExternalPortBridge, LLMEnvKey, LLMKey,
 * GatewayToken) plus the generalised ones. Absent optional values are null.
 */
export interface TemplateValues {
  AgentId: string;
  Image: string;
  /** Port name -> internal/external, for every port of the manifest. */
  ports: Record<string, TemplatePortValues>;
  /** The first port (seed's InternalPort / ExternalPort). */
  InternalPort: number;
  ExternalPort: string;
  /** The port named 'bridge', when the agent has one. */
  InternalPortBridge: number | null;
  ExternalPortBridge: string | null;
  LLMProvider: string;
  /** Env var that receives the key for this agent and provider; null when the key goes in a config file. */
  LLMEnvKey: string | null;
  LLMKey: string;
  LLMBaseUrlEnvKey: string | null;
  LLMBaseUrl: string | null;
  GatewayToken: string;
  TelegramEnvKey: string | null;
  TelegramToken: string | null;
  HasTelegram: boolean;
  /** config.model when given, else the template's default model for this provider, else null. */
  Model: string | null;
  /** The customer's validated `config` object. */
  config: Record<string, unknown>;
  DataDir: string;
  /** Plan limits; the converter enforces them whether or not a template mentions them. */
  MemoryBytes: number;
  Cpus: number;
  PidsLimit: number;
}

export function hostPortPlaceholder(name: string, internal: number): string {
  return '${' + name.toUpperCase().replace(/[^A-Z0-9]/g, '_') + '_HOST_PORT:-' + internal + '}';
}

/** Template-side options for an agent (templates/agents/<id>/template.json), all optional. */
export interface TemplateOptions {
  /** Key of the customer's config that names the image (bring-your-own image). */
  image_from_config?: string;
  /** Port name -> key of the customer's config that overrides its container port. */
  port_from_config?: Record<string, string>;
  /** Key of the customer's config that overrides the health path. */
  health_endpoint_from_config?: string;
  /** Provider id -> model used when the customer's config has no `model`. */
  default_models?: Record<string, string>;
}

/** The manifest's facts after the customer's overrides allowed by TemplateOptions. */
export interface EffectiveAgent {
  image: string;
  ports: { name: string; containerPort: number; publish: boolean }[];
  healthPath: string;
}

export function effectiveAgent(
  manifest: AgentManifest,
  options: TemplateOptions,
  config: Record<string, unknown>,
  imageOverride?: string,
): EffectiveAgent {
  let image = imageOverride ?? manifest.base_image;
  if (options.image_from_config) {
    const v = config[options.image_from_config];
    if (typeof v !== 'string' || v === '') {
      throw new InvalidArgumentError(`config.${options.image_from_config} is required for ${manifest.id}`, {
        [`config.${options.image_from_config}`]: ['is required'],
      });
    }
    image = v;
  }
  const ports = manifest.ports.map((p) => {
    const key = options.port_from_config?.[p.name];
    const v = key === undefined ? undefined : config[key];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535)) {
      throw new InvalidArgumentError(`config.${key} must be a port number`, { [`config.${key}`]: ['must be 1-65535'] });
    }
    return { name: p.name, containerPort: (v as number | undefined) ?? p.container_port, publish: p.publish };
  });
  let healthPath = manifest.health_endpoint;
  if (options.health_endpoint_from_config) {
    const v = config[options.health_endpoint_from_config];
    if (typeof v === 'string' && v !== '') healthPath = v;
  }
  if (!/^\/[A-Za-z0-9/_.~%-]*$/.test(healthPath)) {
    throw new InvalidArgumentError(`health path '${healthPath}' is not a plain absolute path`);
  }
  return { image, ports, healthPath };
}
