import { Injectable } from '@nestjs/common';
import { createConfigAjv } from '@berth/catalog';
import type { FieldErrors } from '@berth/domain';
import { CustomImagesService, type CheckedCustomImage } from '../custom-images/custom-images.service';
import type { CustomImageInput } from '../custom-images/dto/custom-image.dto';
import { RegistryService } from '../registry/registry.service';
import type { AgentTypeRecord, LlmProviderRecord } from '../registry/registry.types';
import { missingAddons, PLAN, type Addons } from '../slot-model';

/** What a customer picks for a slot, at signup or at a switch. */
export interface Selection {
  agent_type_id: string;
  llm_provider_id: string;
  /** Undefined at a switch that keeps the slot's key. */
  llm_api_key?: string;
  llm_base_url?: string | null;
  telegram_bot_token?: string | null;
  config: Record<string, unknown>;
  /** The custom agent's image (its settings then come from here, never from `config`). */
  custom_image?: CustomImageInput;
  addons: Addons;
}

export interface CheckedSelection {
  agent: AgentTypeRecord;
  provider: LlmProviderRecord;
  /** What the slot keeps as its config: `config`, or for the custom agent the settings of its custom_image. */
  config: Record<string, unknown>;
  /** The custom agent's image as checked (its registry credentials to seal); null for other agents. */
  customImage: CheckedCustomImage | null;
}

/**
 * The checks a slot's agent + provider + key + config must pass before anything is written:
 * the agent and provider exist and are active, the agent supports the provider, the key looks
 * like that provider's, the config matches the agent's JSON schema, and the agent fits the
 * slot's resources (naming the add-on it needs); for the custom agent, its custom_image passes the
 * operator's rules (custom-images/). Problems are added to `fields`.
 */
@Injectable()
export class SelectionValidator {
  private readonly ajv = createConfigAjv();

  constructor(
    private readonly registry: RegistryService,
    private readonly customImages: CustomImagesService,
  ) {}

  async check(s: Selection, fields: FieldErrors): Promise<CheckedSelection | null> {
    const add = (k: string, m: string) => (fields[k] ??= []).push(m);
    const agent = await this.registry.findAgentType(s.agent_type_id);
    const provider = await this.registry.findProvider(s.llm_provider_id);
    if (!agent) add('agent_type_id', `unknown agent type '${s.agent_type_id}'`);
    else if (!agent.is_active) add('agent_type_id', `agent type '${agent.id}' is not available`);
    if (!provider) add('llm_provider_id', `unknown LLM provider '${s.llm_provider_id}'`);
    else if (!provider.is_active) add('llm_provider_id', `LLM provider '${provider.id}' is not available`);
    if (agent && provider && !agent.manifest.llm_providers?.[provider.id]) {
      const supported = Object.keys(agent.manifest.llm_providers ?? {}).join(', ');
      add('llm_provider_id', `${agent.name} does not support ${provider.name} (supported: ${supported})`);
    }
    if (provider) {
      if (s.llm_api_key !== undefined && !new RegExp(provider.key_pattern).test(s.llm_api_key)) {
        add('llm_api_key', `does not look like a ${provider.name} key (${provider.key_hint})`);
      }
      if (provider.requires_base_url && !s.llm_base_url) add('llm_base_url', `is required for ${provider.name}`);
    }
    if (s.telegram_bot_token && agent && !agent.manifest.telegram_env) add('telegram_bot_token', `${agent.name} has no Telegram channel`);
    const customImage = agent ? this.customImages.check(agent, s, fields) : null;
    const config = customImage?.config ?? s.config;
    // The settings are checked by the agent's schema too (a custom image's under its own field
    // names), unless custom_image or config was refused already.
    const refused = Object.keys(fields).some((k) => k === 'config' || k.startsWith('custom_image'));
    if (agent && !refused) {
      const validate = this.ajv.compile(agent.manifest.config_schema ?? {});
      if (!validate(config)) {
        for (const e of validate.errors ?? []) {
          const extra = e.params && 'additionalProperty' in e.params ? ` '${String(e.params.additionalProperty)}'` : '';
          add(`${customImage ? 'custom_image' : 'config'}${e.instancePath.replace(/\//g, '.')}`, `${e.message ?? 'is invalid'}${extra}`);
        }
      }
    }
    if (agent) {
      for (const m of missingAddons(agent, s.addons)) {
        const a = PLAN.addons[m];
        add('addons', `${agent.name} needs ${agent.min_memory} memory / ${agent.min_cpu} CPU; add the '${m}' add-on (${a.description}, +$${a.monthly_price_usd}/month)`);
      }
    }
    return agent && provider ? { agent, provider, config, customImage } : null;
  }
}
