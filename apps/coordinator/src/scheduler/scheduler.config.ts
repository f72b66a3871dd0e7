import { loadConfig } from '@berth/config';
import { z } from 'zod';
import { PLACEMENT_STRATEGIES, PlacementStrategy } from './placement';

/** The scheduler's slice of the environment, checked once at boot. */
export const schedulerConfigSchema = z.object({
  BERTH_SCHEDULER_STRATEGY: z
    .enum(PLACEMENT_STRATEGIES as [PlacementStrategy, ...PlacementStrategy[]])
    .default('spread'),
});

export interface SchedulerConfig {
  strategy: PlacementStrategy;
}

export const SCHEDULER_CONFIG = Symbol('SCHEDULER_CONFIG');

/** Throws ConfigError naming BERTH_SCHEDULER_STRATEGY when it is not spread|binpack. */
export function loadSchedulerConfig(env: NodeJS.ProcessEnv = process.env): SchedulerConfig {
  const parsed = loadConfig(schedulerConfigSchema, env);
  return { strategy: parsed.BERTH_SCHEDULER_STRATEGY };
}
