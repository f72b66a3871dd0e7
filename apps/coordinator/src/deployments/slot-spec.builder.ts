import { Inject, Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { FailedPreconditionError, MiB, type SlotDeploySpec } from '@berth/domain';
import { loadAgentTemplate, parseAgentTemplate, renderSlot, type AgentTemplate, type RenderedSlot } from '@berth/templates';
import { RegistryService } from '../registry/registry.service';
import type { AgentTypeRecord } from '../registry/registry.types';
import { SecretsRepository } from '../secrets/secrets.repository';
import { SecretsService, secretAad, type SecretKind } from '../secrets/secrets.service';
import { defaultTemplatesDir } from '@berth/catalog';
import { CONFIG, type CoordinatorConfig } from '../config/config.schema';
import { takesCustomerImage } from '../custom-images/customer-image-agents';
import { SlotSecretsRepository } from './slot-secrets.repository';
import type { DesiredState } from './deployment.types';
import type { SlotRuntime } from './deployments.repository';

/** PIDs per slot: room for an agent's workers, a stop for a fork bomb. */
export const SLOT_PIDS_LIMIT = 512;

/**
 * Turns a slot and what a deployment wants into the node daemon's deploy spec:
 * the catalogue entry (with the operator's image pin), the slot's decrypted secrets and
 * the agent's compose template, through libs/templates (render, policy, convert).
 */
@Injectable()
export class SlotSpecBuilder {
  private readonly templates = new Map<string, AgentTemplate>();

  constructor(
    private readonly registry: RegistryService,
    private readonly secretsRepo: SecretsRepository,
    private readonly secrets: SecretsService,
    private readonly slotSecrets: SlotSecretsRepository,
    @Inject(CONFIG) private readonly config: CoordinatorConfig,
  ) {}

  /**
   * The agent type's compiled template: from the files its row carries (every catalogue agent
   * after a sync, and community agents added through the admin API), compiled once per content;
   * from the templates folder only for a row written before rows carried them.
   */
  private template(agent: AgentTypeRecord): AgentTemplate {
    const files = agent.template_files;
    const key = files ? `${agent.id}\0${files.compose}\0${files.config_overlay ?? ''}\0${files.options ?? ''}` : agent.id;
    let t = this.templates.get(key);
    if (!t) {
      t = files
        ? parseAgentTemplate(agent.id, { compose: files.compose, configOverlay: files.config_overlay, options: files.options })
        : loadAgentTemplate(join(this.config.BERTH_TEMPLATES_DIR ?? defaultTemplatesDir(), 'agents'), agent.id);
      this.templates.set(key, t);
    }
    return t;
  }

  /** Renders what `desired` asks for with the slot's sealed keys. */
  async render(slot: SlotRuntime, desired: DesiredState): Promise<RenderedSlot> {
    const agent = await this.registry.findAgentType(desired.agent_type_id);
    if (!agent) throw new FailedPreconditionError(`agent type '${desired.agent_type_id}' is no longer in the catalogue`);
    const provider = await this.registry.findProvider(desired.llm_provider_id);
    if (!provider) throw new FailedPreconditionError(`LLM provider '${desired.llm_provider_id}' is no longer in the catalogue`);

    const stored = await this.secretsRepo.findForSlot(slot.customer_id, slot.id);
    const open = (kind: string): string | null => {
      const s = stored.find((x) => (x.kind as string) === kind);
      return s ? this.secrets.open(s, secretAad(slot.id, kind as SecretKind)) : null;
    };
    const apiKey = open('llm_key');
    if (!apiKey) throw new FailedPreconditionError('the slot has no LLM API key');

    let gatewayToken = open('gateway_token');
    if (!gatewayToken) {
      // Kept for the slot's life so a redeploy or a switch back does not change it.
      gatewayToken = SecretsService.newGatewayToken();
      await this.slotSecrets.put(slot.customer_id, slot.id, 'gateway_token', this.secrets.seal(gatewayToken, secretAad(slot.id, 'gateway_token')));
    }

    return renderSlot({
      manifest: agent.manifest,
      template: this.template(agent),
      values: {
        provider: { id: provider.id, apiKey, baseUrl: desired.llm_base_url ?? provider.base_url },
        gatewayToken,
        telegramToken: open('telegram_token'),
        config: desired.config,
        resources: { memoryBytes: desired.memory_mb * MiB, nanoCpus: desired.cpu_millis * 1_000_000, pidsLimit: SLOT_PIDS_LIMIT },
        image: agent.base_image ?? undefined,
      },
    });
  }

  /**
   * Whether `image` is the one the catalogue or the operator's pin chose for the agent type, not one
   * a customer named: an agent type that runs its customers' images (custom) has no platform image,
   * even when a customer names its placeholder.
   */
  async isPlatformImage(agentTypeId: string, image: string): Promise<boolean> {
    const agent = await this.registry.findAgentType(agentTypeId);
    if (!agent || takesCustomerImage(agent, this.config.BERTH_TEMPLATES_DIR ?? defaultTemplatesDir())) return false;
    return (agent.base_image ?? agent.manifest.base_image) === image;
  }

  async spec(slot: SlotRuntime, desired: DesiredState, deploymentId: string): Promise<SlotDeploySpec> {
    const { spec } = await this.render(slot, desired);
    return { ...spec, deploymentId, slotId: slot.id, customerId: slot.customer_id };
  }
}
