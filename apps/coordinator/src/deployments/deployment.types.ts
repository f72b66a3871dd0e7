/**
 * Every change to a slot is a deployment: a persisted state machine (table `deployments`)
 * with its events (`deployment_events`). The runner (deployment-runner.ts) drives it; a
 * coordinator restart resumes every deployment that is not finished.
 */
export type DeploymentKind =
  | 'deploy' // first placement after signup
  | 'switch' // another agent and/or provider in the same slot; rolls back when the new one never gets healthy
  | 'rollback' // back to the previous agent after a failed switch
  | 'move' // to another node (drain, or a resize that does not fit where it is)
  | 'reschedule' // its node went down
  | 'resize' // add-ons changed the slot's limits
  | 'stop'
  | 'start'
  | 'restart'
  | 'terminate';

export type DeploymentStatus =
  | 'pending'
  | 'waiting_capacity'
  | 'scheduled'
  | 'running'
  | 'succeeded'
  | 'failed'
  | 'rolled_back';

export const FINISHED: readonly DeploymentStatus[] = ['succeeded', 'failed', 'rolled_back'];

export function isFinished(s: string): boolean {
  return (FINISHED as readonly string[]).includes(s);
}

/** What the deployment wants; stored as JSON in deployments.desired_spec (never a secret). */
export interface DesiredState {
  agent_type_id: string;
  llm_provider_id: string;
  llm_base_url?: string | null;
  config: Record<string, unknown>;
  memory_mb: number;
  cpu_millis: number;
  /**
   * For a resize (and the move it may make): the add-on flags the customer asked for, written to
   * the slot only together with the limits they give, once the container has them. So a refused or
   * failed change bills nothing, and what is billed is what runs.
   */
  addons?: { memory: boolean; cpu: boolean; priority_support: boolean };
  /** For a switch: what ran before, to roll back to. */
  previous?: { agent_type_id: string; llm_provider_id: string; llm_base_url?: string | null; config: Record<string, unknown> };
  /** Nodes the placement must avoid (the down or draining node for reschedule/move). */
  exclude_nodes?: string[];
  /** The node the slot ran on before a move/reschedule: its copy is removed after success. */
  from_node_id?: string | null;
}

export type { SlotState, PublishedPort } from '../slot-model';

export interface DeploymentEventView {
  seq: number;
  type: string;
  message: string;
  at: string;
  data?: unknown;
}

export interface DeploymentView {
  id: string;
  slot_id: string;
  kind: DeploymentKind;
  status: DeploymentStatus;
  node_id: string | null;
  error: string | null;
  /** The exact image the deployment ran, by digest (sha256:...); null before the node reported it, or when it knew none. */
  image_digest: string | null;
  created_at: string;
  finished_at: string | null;
}
