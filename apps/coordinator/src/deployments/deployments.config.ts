import { z } from 'zod';
import { loadConfig } from '@berth/config';

export const deploymentsConfigSchema = z.object({
  /** How often deployments waiting for room are tried again. */
  BERTH_PLACEMENT_RETRY_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /** Attempts of a node call that answers UNAVAILABLE (with exponential backoff) before a deployment fails. */
  BERTH_NODE_CALL_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(6),
  BERTH_NODE_CALL_BACKOFF_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /**
   * How soon a draining node's slots whose move failed are tried again; each retry that still
   * finds such slots doubles the wait, up to 5 minutes.
   */
  BERTH_DRAIN_RETRY_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Days a terminated slot's data is kept on its node before it is purged. */
  BERTH_DATA_RETENTION_DAYS: z.coerce.number().min(0).max(3650).default(30),
});
export type DeploymentsConfig = z.infer<typeof deploymentsConfigSchema>;
export const DEPLOYMENTS_CONFIG = Symbol('DeploymentsConfig');
export const loadDeploymentsConfig = (env: NodeJS.ProcessEnv = process.env): DeploymentsConfig => loadConfig(deploymentsConfigSchema, env);
