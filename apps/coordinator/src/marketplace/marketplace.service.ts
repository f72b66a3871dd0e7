import { Injectable } from '@nestjs/common';
import { RegistryService } from '../registry/registry.service';
import type { AgentTypeRecord, LlmProviderRecord } from '../registry/registry.types';
import { monthlyPrice, PLAN, requiredAddons } from '../slot-model';
import { MarketplaceRepository } from './marketplace.repository';

/** Shown while no slot exists yet: the combinations the catalogue's authors recommend. */
export const CURATED_STACKS: { agent_type_id: string; llm_provider_id: string }[] = [
  { agent_type_id: 'openclaw', llm_provider_id: 'anthropic' },
  { agent_type_id: 'myrai', llm_provider_id: 'openai' },
  { agent_type_id: 'openclaw', llm_provider_id: 'openrouter' },
  { agent_type_id: 'myrai', llm_provider_id: 'anthropic' },
  { agent_type_id: 'picoclaw', llm_provider_id: 'groq' },
];

export function agentView(a: AgentTypeRecord, activeProviders: Set<string>) {
  const m = a.manifest;
  const addons = requiredAddons(a);
  return {
    id: a.id,
    name: a.name,
    description: a.description,
    language: a.language,
    version: a.version,
    status: a.status,
    base_image: a.base_image,
    internal_port: a.internal_port,
    health_endpoint: a.health_endpoint,
    min_memory: a.min_memory,
    min_cpu: a.min_cpu,
    is_active: a.is_active,
    ports: m.ports ?? [],
    supported_providers: Object.keys(m.llm_providers ?? {}).filter((p) => activeProviders.has(p)),
    telegram: !!m.telegram_env,
    config_schema: m.config_schema ?? {},
    resources: { min_memory: a.min_memory, min_cpu: a.min_cpu, plan_memory_mb: PLAN.memory_mb, plan_cpu: PLAN.cpu_millis / 1000 },
    required_addons: addons,
    monthly_price_usd: monthlyPrice({ memory: addons.includes('memory'), cpu: addons.includes('cpu'), priority_support: false }),
    notes: m.notes ?? [],
  };
}

export function providerView(p: LlmProviderRecord) {
  return {
    id: p.id,
    name: p.name,
    description: p.description,
    env_key: p.env_key,
    base_url: p.base_url,
    requires_base_url: p.requires_base_url,
    key_hint: p.key_hint,
    is_active: p.is_active,
  };
}

@Injectable()
export class MarketplaceService {
  constructor(
    private readonly registry: RegistryService,
    private readonly repo: MarketplaceRepository,
  ) {}

  async agents() {
    const providers = new Set((await this.registry.listProviders()).filter((p) => p.is_active).map((p) => p.id));
    return { plan: PLAN, agents: (await this.registry.listAgentTypes()).filter((a) => a.is_active || a.status === 'planned').map((a) => agentView(a, providers)) };
  }

  async providers() {
    return { llm_providers: (await this.registry.listProviders()).filter((p) => p.is_active).map(providerView) };
  }

  /** Ranked by active slots; the curated list while there is no data. Only offerable combinations. */
  async stacks() {
    const agents = new Map((await this.registry.listAgentTypes()).filter((a) => a.is_active).map((a) => [a.id, a]));
    const providers = new Map((await this.registry.listProviders()).filter((p) => p.is_active).map((p) => [p.id, p]));
    const ok = (s: { agent_type_id: string; llm_provider_id: string }) => {
      const a = agents.get(s.agent_type_id);
      return !!a && providers.has(s.llm_provider_id) && !!a.manifest.llm_providers?.[s.llm_provider_id];
    };
    const counted = (await this.repo.activeStacks()).filter(ok).sort((x, y) => y.active_slots - x.active_slots || x.agent_type_id.localeCompare(y.agent_type_id));
    const source = counted.length ? 'usage' : 'curated';
    const list = counted.length ? counted : CURATED_STACKS.filter(ok).map((s) => ({ ...s, active_slots: 0 }));
    return {
      source,
      stacks: list.map((s, i) => ({
        rank: i + 1,
        agent_type_id: s.agent_type_id,
        agent_name: agents.get(s.agent_type_id)!.name,
        llm_provider_id: s.llm_provider_id,
        llm_provider_name: providers.get(s.llm_provider_id)!.name,
        active_slots: s.active_slots,
      })),
    };
  }
}
