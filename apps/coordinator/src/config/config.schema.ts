import { z } from 'zod';
import { bool, ConfigError, loadConfig, port } from '@berth/config';

/**
 * Every environment variable the coordinator reads, checked once at boot (libs/config).
 * docs/coordinator.md's table lists exactly these keys (a spec checks it).
 */
const positiveInt = z.coerce.number().int().min(1);

export const coordinatorConfigSchema = z.object({
  PORT: port.default(8080),
  HOST: z.string().min(1).default('0.0.0.0'),
  BERTH_DATA_DIR: z.string().min(1).default('./.berth'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  BERTH_MASTER_KEY: z
    .string()
    .refine((v) => /^[A-Za-z0-9+/]+={0,2}$/.test(v) && Buffer.from(v, 'base64').length === 32, 'must be 32 bytes in base64 (openssl rand -base64 32)')
    .optional(),
  BERTH_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  LOG_LEVEL: z.enum(['error', 'warn', 'log', 'debug', 'verbose']).default('log'),
  BERTH_TEMPLATES_DIR: z.string().min(1).optional(),
  /** Folders of community agents (`<id>/manifest.json` + templates), comma-separated; validated like templates/agents at start. */
  BERTH_CATALOGUE_DIRS: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((d) => d.trim()).filter(Boolean)),
  BERTH_BODY_LIMIT: z.string().regex(/^\d+(b|kb|mb)$/i, 'must look like 64kb').default('64kb'),
  BERTH_TRUST_PROXY: bool.default(false),
  BERTH_TOKEN_TTL_DAYS: positiveInt.default(30),
  BERTH_SIGNUP_RATE_LIMIT: positiveInt.default(20),
  BERTH_SIGNUP_RATE_WINDOW_SECONDS: positiveInt.default(600),
  BERTH_LOGIN_RATE_LIMIT: positiveInt.default(60),
  BERTH_LOGIN_RATE_WINDOW_SECONDS: positiveInt.default(900),
  BERTH_LOGIN_FAILURES_PER_ACCOUNT: positiveInt.default(10),
  BERTH_LOGIN_FAILURE_WINDOW_SECONDS: positiveInt.default(900),
  /** `npm start` runs a node daemon in-process against the local Docker engine (main.ts, local-node.ts). */
  BERTH_LOCAL_NODE: bool.default(true),
  BERTH_LOCAL_NODE_LISTEN: z.string().regex(/^[\w.-]+:\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:7443').default('127.0.0.1:7443'),
});

export type CoordinatorConfig = z.infer<typeof coordinatorConfigSchema>;

/**
 * The environment the app was created with (createApp's `env`, default process.env). Modules
 * that check their own slice of it (nodes, deployments, scheduler) read it through this token,
 * so a test's or an embedder's settings reach every module, not only this schema.
 */
export const ENV = Symbol('Environment');

/** Variables whose value must never appear in an error message (keys, tokens, URLs with passwords). */
export const SECRET_VARS = ['BERTH_MASTER_KEY', 'BERTH_ADMIN_TOKEN', 'DATABASE_URL'] as const;

export function loadCoordinatorConfig(env: NodeJS.ProcessEnv = process.env): CoordinatorConfig {
  try {
    return loadConfig(coordinatorConfigSchema, env);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    throw new ConfigError(e.problems.map((p) => (SECRET_VARS.some((v) => p.startsWith(`${v}:`)) ? p.replace(/\(got .*\)$/s, '(value hidden)') : p)));
  }
}

export const CONFIG = Symbol('CoordinatorConfig');
