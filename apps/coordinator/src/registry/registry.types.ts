import type { AgentManifest, AgentTemplateFiles } from '@berth/catalog';

/** Our own shapes of the registry rows (no Prisma type leaves the repository). */
export interface AgentTypeRecord {
  id: string;
  name: string;
  description: string | null;
  language: string | null;
  base_image: string | null;
  internal_port: number | null;
  health_endpoint: string | null;
  min_memory: string | null;
  min_cpu: string | null;
  config_template: string | null;
  env_vars: string | null;
  is_active: boolean;
  version: string;
  status: string;
  manifest: AgentManifest;
  /** The files the slot is rendered from (null on a row written before they were kept). */
  template_files: AgentTemplateFiles | null;
  /** 'catalogue' (synced from files) or 'api' (added through POST /api/admin/agent-types). */
  source: string;
  operator_overrides: string[];
  created_at: Date | null;
  updated_at: Date;
}

export interface LlmProviderRecord {
  id: string;
  name: string;
  description: string | null;
  env_key: string | null;
  base_url: string | null;
  is_active: boolean;
  key_pattern: string;
  key_hint: string;
  requires_base_url: boolean;
  operator_overrides: string[];
  created_at: Date;
  updated_at: Date;
}

/** Fields an operator may change through the admin API (and that a later sync then leaves alone). */
export const AGENT_OPERATOR_FIELDS = ['base_image', 'is_active', 'name', 'description', 'min_memory', 'min_cpu'] as const;
export type AgentOperatorField = (typeof AGENT_OPERATOR_FIELDS)[number];
export const PROVIDER_OPERATOR_FIELDS = ['base_url', 'is_active', 'name', 'description'] as const;
export type ProviderOperatorField = (typeof PROVIDER_OPERATOR_FIELDS)[number];

export type AgentTypePatch = Partial<Pick<AgentTypeRecord, AgentOperatorField>>;
export type LlmProviderPatch = Partial<Pick<LlmProviderRecord, ProviderOperatorField>>;
