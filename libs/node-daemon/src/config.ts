import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { bool, loadConfig, portRange } from '@berth/config';

const bytes = z
  .string()
  .regex(/^\d+(\.\d+)?\s*([KMGT]i?B?|[kmgt]|B)?$/, 'must be a size like 512MiB, 2GiB or a number of bytes')
  .transform((v) => {
    const m = /^(\d+(?:\.\d+)?)\s*([KMGTkmgt])?/.exec(v)!;
    const mult =
      { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[(m[2] ?? '').toUpperCase() as 'K'] ?? 1;
    return Math.round(Number(m[1]) * mult);
  });
const cpus = z.coerce
  .number()
  .min(0)
  .max(1024)
  .transform((v) => Math.round(v * 1e9));
const hostPort = z
  .string()
  .regex(/^(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}$/, 'must be host:port, e.g. 0.0.0.0:7443');
const ms = z.coerce.number().int().min(0);

export const nodeConfigSchema = z.object({
  BERTH_NODE_ID: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1-63 characters of A-Z a-z 0-9 _ . -')
    .default(
      os
        .hostname()
        .replace(/[^A-Za-z0-9_.-]/g, '-')
        .slice(0, 63) || 'node',
    ),
  BERTH_NODE_LISTEN: hostPort.default('0.0.0.0:7443'),
  BERTH_NODE_METRICS_LISTEN: hostPort.default('127.0.0.1:9464'),
  BERTH_NODE_STATE_DIR: z.string().min(1).default(path.join(os.homedir(), '.berth-node')),
  BERTH_NODE_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  BERTH_NODE_TLS_CERT: z.string().optional(),
  BERTH_NODE_TLS_KEY: z.string().optional(),
  BERTH_NODE_PUBLISH_IP: z.union([z.ipv4(), z.ipv6()]).default('127.0.0.1'),
  BERTH_NODE_PORT_RANGE: portRange.prefault('20000-29999'),
  BERTH_NODE_RESERVE_MEMORY: bytes.prefault('512MiB'),
  BERTH_NODE_RESERVE_CPU: cpus.prefault('0.5'),
  BERTH_NODE_ALLOCATABLE_MEMORY: bytes.optional(),
  BERTH_NODE_ALLOCATABLE_CPU: cpus.optional(),
  BERTH_NODE_REAP_GRACE_MS: ms.default(120_000),
  BERTH_NODE_REAP_DRY_RUN: bool.prefault('false'),
  BERTH_NODE_RESYNC_MS: ms.default(15_000),
  /** Disk the engine's images may take; a pull that would pass it fails (image_too_large). */
  BERTH_NODE_IMAGE_BUDGET: bytes.prefault('20GiB'),
  /** How long transient pull failures (reset, 5xx, timeouts) are retried before the pull fails. */
  BERTH_NODE_PULL_RETRY_MS: ms.default(120_000),
  /** A pull with no progress for this long is cut off and retried (0: never). */
  BERTH_NODE_PULL_STALL_MS: ms.default(60_000),
  BERTH_NODE_RESTART_MAX_RETRIES: z.coerce.number().int().min(0).max(100).default(3),
  BERTH_NODE_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  DOCKER_HOST: z.string().optional(),
});

export type NodeConfig = z.infer<typeof nodeConfigSchema>;

/** Checked once at boot; a bad variable fails fast and is named. */
export function loadNodeConfig(env: NodeJS.ProcessEnv = process.env): NodeConfig {
  const config = loadConfig(nodeConfigSchema, env);
  if (Boolean(config.BERTH_NODE_TLS_CERT) !== Boolean(config.BERTH_NODE_TLS_KEY)) {
    throw new Error(
      'Invalid configuration:\n  - BERTH_NODE_TLS_CERT and BERTH_NODE_TLS_KEY go together (set both or neither)',
    );
  }
  return config;
}
