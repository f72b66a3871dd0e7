import type { Prisma } from '../../../../prisma/generated/client/client';
import type { Addons } from './plan';

/** A slot's state as the customer sees it; the deployment runner moves it (apps/coordinator/src/deployments). */
export type SlotState = 'pending' | 'deploying' | 'running' | 'unhealthy' | 'stopped' | 'failed' | 'terminating' | 'terminated';

export interface PublishedPort {
  name: string;
  container_port: number;
  host_ip: string;
  host_port: number;
}

export interface SlotRecord {
  id: string;
  customer_id: string;
  plan: string;
  addons: Addons;
  memory_mb: number;
  cpu_millis: number;
  desired_agent_type_id: string;
  desired_llm_provider_id: string;
  llm_base_url: string | null;
  config: Record<string, unknown>;
  current_agent_type_id: string | null;
  current_agent_version: string | null;
  state: SlotState;
  state_reason: string | null;
  node_id: string | null;
  published_ports: PublishedPort[];
  created_at: Date;
  updated_at: Date;
  terminated_at: Date | null;
}

type Row = Prisma.SlotGetPayload<object>;

/** A `slots` row as the rest of the coordinator sees it (every repository that reads slots maps with this). */
export const toSlot = (r: Row): SlotRecord => ({
  id: r.id,
  customer_id: r.customer_id,
  plan: r.plan,
  addons: { memory: r.addon_memory, cpu: r.addon_cpu, priority_support: r.addon_priority_support },
  memory_mb: r.memory_mb,
  cpu_millis: r.cpu_millis,
  desired_agent_type_id: r.desired_agent_type_id,
  desired_llm_provider_id: r.desired_llm_provider_id,
  llm_base_url: r.llm_base_url,
  config: (r.config ?? {}) as Record<string, unknown>,
  current_agent_type_id: r.current_agent_type_id,
  current_agent_version: r.current_agent_version,
  state: r.state as SlotState,
  state_reason: r.state_reason,
  node_id: r.node_id,
  published_ports: (r.published_ports ?? []) as unknown as PublishedPort[],
  created_at: r.created_at,
  updated_at: r.updated_at,
  terminated_at: r.terminated_at,
});
