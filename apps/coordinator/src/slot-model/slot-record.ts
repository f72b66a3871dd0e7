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
