import { Inject, Injectable } from '@nestjs/common';
import { InvalidArgumentError, NotFoundError, type FieldErrors } from '@berth/domain';
import { DeploymentsRepository } from '../deployments/deployments.repository';
import { DeploymentsService, deploymentView, desiredOf } from '../deployments/deployments.service';
import { NODE_GATEWAY, type NodeGateway } from '../deployments/node-gateway';
import { SlotSpecBuilder } from '../deployments/slot-spec.builder';
import { SecretsRepository } from '../secrets/secrets.repository';
import { SelectionValidator } from './selection';
import { SlotsRepository } from './slots.repository';
import { monthlyPrice, PLAN, type Addons, type SlotRecord } from '../slot-model';
import { slotView } from './slots.view';
import type { AddonsDto, SwitchDto } from './dto/slot.dto';

/**
 * The customer's own slot (`/api/slot`): one paid slot per customer, the most recent one that
 * is not terminated. Every change is a deployment, answered at once and followed as events.
 */
@Injectable()
export class MySlotService {
  constructor(
    private readonly slots: SlotsRepository,
    private readonly secrets: SecretsRepository,
    private readonly deployments: DeploymentsService,
    private readonly deploymentsRepo: DeploymentsRepository,
    private readonly selection: SelectionValidator,
    private readonly specs: SlotSpecBuilder,
    @Inject(NODE_GATEWAY) private readonly nodes: NodeGateway,
  ) {}

  async current(customerId: string): Promise<SlotRecord> {
    const all = await this.slots.listForCustomer(customerId);
    const live = all.filter((s) => s.state !== 'terminated');
    const slot = live[live.length - 1] ?? all[all.length - 1];
    if (!slot) throw new NotFoundError('you have no slot');
    return slot;
  }

  async view(customerId: string) {
    const slot = await this.current(customerId);
    const latest = await this.deploymentsRepo.latestForSlot(slot.id);
    return {
      ...slotView(slot, await this.secrets.hintsForSlot(customerId, slot.id)),
      node_id: slot.node_id,
      health: slot.state === 'running' ? 'healthy' : slot.state === 'unhealthy' ? 'unhealthy' : 'unknown',
      urls: slot.published_ports.map((p) => ({ name: p.name, url: `http://${p.host_ip}:${p.host_port}` })),
      deployment: latest ? deploymentView(latest) : null,
    };
  }

  async switchAgent(customerId: string, dto: SwitchDto) {
    const slot = await this.current(customerId);
    const fields: FieldErrors = {};
    if (dto.llm_provider_id !== slot.desired_llm_provider_id && !dto.llm_api_key) {
      fields.llm_api_key = ['is required when the LLM provider changes'];
    }
    const checked = await this.selection.check({ ...dto, addons: slot.addons }, fields);
    if (Object.keys(fields).length || !checked) throw new InvalidArgumentError('invalid switch', fields);
    const { custom_image: _customImage, ...selection } = dto;
    const d = await this.deployments.switchAgent(customerId, slot.id, {
      ...selection,
      config: checked.config,
      registry_auth: checked.customImage?.registryAuth ?? null,
    });
    return { deployment: deploymentView(d) };
  }

  async power(customerId: string, action: 'stop' | 'start' | 'restart') {
    const slot = await this.current(customerId);
    return { deployment: deploymentView(await this.deployments.power(customerId, slot.id, action)) };
  }

  async terminate(customerId: string) {
    const slot = await this.current(customerId);
    return { deployment: deploymentView(await this.deployments.terminate(customerId, slot.id)) };
  }

  async setAddons(customerId: string, addons: AddonsDto) {
    const slot = await this.current(customerId);
    const fields: FieldErrors = {};
    // An agent that needs an add-on cannot lose it: it would not fit any more.
    await this.selection.check(
      { agent_type_id: slot.desired_agent_type_id, llm_provider_id: slot.desired_llm_provider_id, config: slot.config, addons, llm_base_url: slot.llm_base_url },
      fields,
    );
    if (fields.addons) throw new InvalidArgumentError('invalid add-ons', { addons: fields.addons });
    return { deployment: deploymentView(await this.deployments.setAddons(customerId, slot.id, addons)) };
  }

  logs(customerId: string, slot: SlotRecord, opts: { tail: number; follow: boolean; signal: AbortSignal }): AsyncIterable<Buffer> {
    if (!slot.node_id || slot.state === 'terminated') throw new NotFoundError('the slot has no container to read logs from');
    return this.nodes.logs(slot.node_id, slot.id, opts);
  }

  /** The slot's compose file with every secret replaced by a ${VARIABLE} placeholder. */
  async compose(customerId: string): Promise<{ yaml: string; variables: string[] }> {
    const slot = await this.current(customerId);
    const r = await this.specs.render(slot, desiredOf(slot));
    return { yaml: r.redactedComposeYaml, variables: r.exportVariables };
  }

  async billing(customerId: string) {
    const slot = await this.current(customerId);
    return billingView(slot.addons);
  }
}

/** The seed's pricing for one slot: $29 base plus add-ons, per month. */
export function billingView(addons: Addons) {
  const lines: { item: string; monthly_usd: number }[] = [{ item: `Container slot (${PLAN.memory_mb} MB / ${PLAN.cpu_millis / 1000} CPU)`, monthly_usd: PLAN.monthly_price_usd }];
  for (const name of ['memory', 'cpu', 'priority_support'] as const) {
    if (addons[name]) lines.push({ item: PLAN.addons[name].description, monthly_usd: PLAN.addons[name].monthly_price_usd });
  }
  return { plan: PLAN.id, addons, lines, monthly_total_usd: monthlyPrice(addons), currency: 'USD' };
}
