import { z } from 'zod';
import { loadConfig } from '@berth/config';

/** The fleet's slice of the environment, checked once at boot (a bad value names its variable). */
export const nodesConfigSchema = z
  .object({
    /** A node silent for longer than this is marked down (its slots get rescheduled). */
    BERTH_NODE_GRACE_SECONDS: z.coerce.number().positive().max(86_400).default(30),
    /** Heartbeat period the coordinator asks each daemon for (WatchEvents). Must be well under the grace. */
    BERTH_NODE_HEARTBEAT_MS: z.coerce.number().int().min(250).max(600_000).default(5000),
    /** Default lifetime of a join token when the admin gives no ttl_seconds. */
    BERTH_JOIN_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(30 * 86_400).default(3600),
  })
  .refine((c) => c.BERTH_NODE_HEARTBEAT_MS * 2 <= c.BERTH_NODE_GRACE_SECONDS * 1000, {
    path: ['BERTH_NODE_HEARTBEAT_MS'],
    message: 'must be at most half of BERTH_NODE_GRACE_SECONDS (in ms), or healthy nodes flap down',
  });

export interface NodesConfig {
  graceMs: number;
  heartbeatMs: number;
  joinTokenTtlSeconds: number;
  /** Longest wait between two reconnect attempts to a node. */
  maxBackoffMs: number;
}

export const NODES_CONFIG = Symbol('NODES_CONFIG');

export function loadNodesConfig(env: NodeJS.ProcessEnv = process.env): NodesConfig {
  const c = loadConfig(nodesConfigSchema as unknown as z.ZodObject<z.ZodRawShape>, env) as z.infer<typeof nodesConfigSchema>;
  const graceMs = Math.round(c.BERTH_NODE_GRACE_SECONDS * 1000);
  return {
    graceMs,
    heartbeatMs: c.BERTH_NODE_HEARTBEAT_MS,
    joinTokenTtlSeconds: c.BERTH_JOIN_TOKEN_TTL_SECONDS,
    // Retry at least a few times within one grace period, never slower than every 30 s.
    maxBackoffMs: Math.max(250, Math.min(30_000, Math.floor(graceMs / 3))),
  };
}
