import { Inject, Injectable } from '@nestjs/common';
import { defaultTemplatesDir } from '@berth/catalog';
import { FailedPreconditionError, parseImageRef, type FieldErrors } from '@berth/domain';
import { CONFIG, type CoordinatorConfig } from '../config/config.schema';
import type { RegistryAuth } from '../images/registry-credentials.service';
import type { AgentTypeRecord } from '../registry/registry.types';
import { SecretsRepository } from '../secrets/secrets.repository';
import { SecretsService, secretAad } from '../secrets/secrets.service';
import { CUSTOM_IMAGES_CONFIG, normalRegistryHost, type CustomImagesConfig } from './custom-images.config';
import { takesCustomerImage } from './customer-image-agents';
import type { CustomImageInput, RegistryAuthInput } from './dto/custom-image.dto';

/** The secret kind a slot's registry credentials are sealed under (`{username, password}` as JSON). */
export const REGISTRY_AUTH_KIND = 'registry_auth';

/** A customer image that passed every check: the slot's settings to store, and its credentials to seal. */
export interface CheckedCustomImage {
  /** What the slot keeps as its `config` (the template reads image, internal_port, health_path, env). */
  config: Record<string, unknown>;
  /** null: the image is public. */
  registryAuth: RegistryAuthInput | null;
}

/** How the node is to pull an image a customer named. */
export interface CustomImagePull {
  /** The slot's own credentials, for the image's registry only. */
  auth?: RegistryAuth;
  maxImageBytes: number;
  /** Ask the registry even when the node has the image (another slot's copy is not this slot's). */
  alwaysPull: true;
}

/** The registry credentials as sealed: JSON of `{username, password}`. */
export function registryAuthPlaintext(a: RegistryAuthInput): string {
  return JSON.stringify({ username: a.username, password: a.password });
}

/**
 * Images customers name (agent type `custom`, issue 10). It decides which agent types take one,
 * checks a `custom_image` against the operator's rules (the registry allow list, the env names the
 * platform keeps) before anything is written, turns it into the slot's settings, and at deploy
 * time says how the node pulls it: with the slot's own registry credentials (never the operator's),
 * always asking the registry, and no larger than BERTH_CUSTOM_IMAGE_MAX_BYTES.
 */
@Injectable()
export class CustomImagesService {
  private readonly templatesDir: string;

  constructor(
    @Inject(CUSTOM_IMAGES_CONFIG) readonly config: CustomImagesConfig,
    @Inject(CONFIG) coordinator: CoordinatorConfig,
    private readonly secretsRepo: SecretsRepository,
    private readonly secrets: SecretsService,
  ) {
    this.templatesDir = coordinator.BERTH_TEMPLATES_DIR ?? defaultTemplatesDir();
  }

  /** Whether the agent type runs the image its customer names (its template takes it from the slot's settings). */
  takesCustomerImage(agent: Pick<AgentTypeRecord, 'id' | 'template_files'>): boolean {
    return takesCustomerImage(agent, this.templatesDir);
  }

  /** Why `image` may not be pulled for a customer (its registry is not on the allow list), or null. */
  registryProblem(image: string): string | null {
    const allowed = this.config.BERTH_CUSTOM_IMAGE_REGISTRIES;
    const registry = normalRegistryHost(parseImageRef(image).registry);
    if (allowed.includes(registry)) return null;
    if (!allowed.length) return 'custom images are turned off here: no registry is allowed (BERTH_CUSTOM_IMAGE_REGISTRIES)';
    return `registry ${registry} is not allowed for custom images (allowed: ${allowed.join(', ')})`;
  }

  /**
   * The `custom_image` / `config` rules of a selection (signup, switch), problems added to `fields`
   * naming the field. For an agent that takes a customer image: `custom_image` is required, `config`
   * is refused (one way in), the registry must be allowed, and env may not set what the platform
   * sets. For any other agent `custom_image` is refused. Returns what to store, when there is one.
   */
  check(agent: AgentTypeRecord, s: { custom_image?: CustomImageInput; config: Record<string, unknown> }, fields: FieldErrors): CheckedCustomImage | null {
    const add = (k: string, m: string) => (fields[k] ??= []).push(m);
    if (!this.takesCustomerImage(agent)) {
      if (s.custom_image !== undefined) add('custom_image', `${agent.name} runs the platform's image; custom_image is only for the custom agent`);
      return null;
    }
    const shape = '{image, internal_port, health_path, env?, registry_auth?}';
    if (Object.keys(s.config).length) add('config', `${agent.name} takes its settings from custom_image ${shape}, not config`);
    const ci = s.custom_image;
    if (!ci) {
      add('custom_image', `is required for ${agent.name}: ${shape}`);
      return null;
    }
    const problem = this.registryProblem(ci.image);
    if (problem) add('custom_image.image', problem);
    const reserved = platformEnvNames(agent);
    for (const name of Object.keys(ci.env ?? {})) {
      if (reserved.has(name) || name.toUpperCase().startsWith('BERTH_')) add(`custom_image.env.${name}`, 'is set by the platform and cannot be overridden');
    }
    const config: Record<string, unknown> = { image: ci.image, internal_port: ci.internal_port, health_path: ci.health_path };
    if (ci.env && Object.keys(ci.env).length) config.env = { ...ci.env };
    return { config, registryAuth: ci.registry_auth ?? null };
  }

  /** At deploy time: a customer's image whose registry is (no longer) allowed does not go to a node. */
  requireAllowed(image: string): void {
    const problem = this.registryProblem(image);
    if (problem) throw new FailedPreconditionError(`image ${image}: ${problem}`);
  }

  /** How a node pulls the customer's `image` for `slot`: its own credentials (when it stored some), the size limit, always from the registry. */
  async pullFor(slot: { id: string; customer_id: string }, image: string): Promise<CustomImagePull> {
    const pull: CustomImagePull = { maxImageBytes: this.config.BERTH_CUSTOM_IMAGE_MAX_BYTES, alwaysPull: true };
    const row = (await this.secretsRepo.findForSlot(slot.customer_id, slot.id)).find((r) => (r.kind as string) === REGISTRY_AUTH_KIND);
    if (!row) return pull;
    let stored: RegistryAuthInput;
    try {
      stored = JSON.parse(this.secrets.open(row, secretAad(slot.id, REGISTRY_AUTH_KIND))) as RegistryAuthInput;
    } catch {
      throw new FailedPreconditionError("the slot's registry credentials cannot be read with this master key; send them again with a switch");
    }
    return { ...pull, auth: { server: parseImageRef(image).registry, username: stored.username, password: stored.password } };
  }
}

/** Env names the platform sets in a slot of `agent`: PORT, the keys and base URLs of its providers, Telegram, its own env_vars. */
export function platformEnvNames(agent: Pick<AgentTypeRecord, 'manifest'>): Set<string> {
  const m = agent.manifest;
  const names = new Set<string>(['PORT', ...(m.env_vars ?? [])]);
  for (const b of Object.values(m.llm_providers ?? {})) {
    if (b.key_env) names.add(b.key_env);
    if (b.base_url_env) names.add(b.base_url_env);
  }
  if (m.telegram_env) names.add(m.telegram_env);
  return names;
}
