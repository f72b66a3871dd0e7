import { monthlyPrice, type SlotRecord } from '../slot-model';

/** What the API shows of a slot: never a secret, at most its "…abcd" hints. */
export function slotView(s: SlotRecord, secretHints: Record<string, string>) {
  return {
    id: s.id,
    state: s.state,
    state_reason: s.state_reason,
    plan: s.plan,
    addons: s.addons,
    resources: { memory_mb: s.memory_mb, cpu: s.cpu_millis / 1000 },
    monthly_price_usd: monthlyPrice(s.addons),
    agent_type_id: s.desired_agent_type_id,
    llm_provider_id: s.desired_llm_provider_id,
    llm_base_url: s.llm_base_url,
    config: s.config,
    current_agent_type_id: s.current_agent_type_id,
    current_agent_version: s.current_agent_version,
    published_ports: s.published_ports,
    secrets: secretHints,
    created_at: s.created_at,
    updated_at: s.updated_at,
  };
}
