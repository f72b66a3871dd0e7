import { z } from 'zod';
import { imageRefProblem } from '@berth/domain';

/** Docker's env grammar, as the node daemon's policy takes it (libs/domain deploy-spec.policy). */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_ENV_VARS = 64;
export const MAX_ENV_VALUE_LENGTH = 4096;
/** The health path the node probes (libs/templates effectiveAgent takes the same). */
const HEALTH_PATH = /^\/[A-Za-z0-9/_.~%-]*$/;
/** What the compose policy accepts as an image (libs/templates policy.ts): plain, lower-case. */
const PLAIN_IMAGE = /^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$/;

export const CUSTOM_IMAGE_KEYS = ['image', 'internal_port', 'health_path', 'env', 'registry_auth'] as const;

/**
 * Keys people try to put in a container definition, and why a custom image cannot have them: it
 * runs under the same policy as every catalogue agent, whatever it asks for.
 */
const ROOT = 'custom images always run as uid:gid 1000:1000, never as root';
const PRIVILEGES = 'custom images never run privileged: all capabilities are dropped, no-new-privileges is set';
const NETWORK = 'the slot has its own network; only internal_port is published, never the host network';
const STORAGE = "no host paths or extra mounts: only the slot's own data volume (at /data) and a tmpfs /tmp";
const LIMITS = "the plan's memory, CPU and process limits apply (add-ons change them)";
const COMMAND = "the image's own entrypoint and command run";
export const REFUSED_KEYS: Record<string, string> = {
  user: ROOT,
  uid: ROOT,
  gid: ROOT,
  group_add: ROOT,
  userns_mode: ROOT,
  root: ROOT,
  privileged: PRIVILEGES,
  cap_add: PRIVILEGES,
  capabilities: PRIVILEGES,
  security_opt: PRIVILEGES,
  devices: PRIVILEGES,
  network_mode: NETWORK,
  network: NETWORK,
  networks: NETWORK,
  host_network: NETWORK,
  pid: NETWORK,
  ipc: NETWORK,
  ports: NETWORK,
  expose: NETWORK,
  extra_hosts: NETWORK,
  dns: NETWORK,
  volumes: STORAGE,
  volume: STORAGE,
  mounts: STORAGE,
  binds: STORAGE,
  tmpfs: STORAGE,
  volumes_from: STORAGE,
  read_only: 'the root filesystem is always read-only (write to /data, or /tmp)',
  memory: LIMITS,
  mem_limit: LIMITS,
  cpus: LIMITS,
  pids_limit: LIMITS,
  resources: LIMITS,
  command: COMMAND,
  entrypoint: COMMAND,
  working_dir: COMMAND,
};

/** Credentials for the image's registry: sealed with the slot's other secrets, sent only with this slot's pulls, never shown. */
export const registryAuthSchema = z.strictObject({
  username: z
    .string('is required')
    .min(1, 'is required')
    .max(255, 'must be at most 255 characters')
    .regex(/^[^\s\p{Cc}]+$/u, 'must not contain spaces or control characters'),
  password: z
    .string('is required')
    .min(1, 'is required')
    .max(4096, 'must be at most 4096 characters')
    .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters'),
});
export type RegistryAuthInput = z.infer<typeof registryAuthSchema>;

/**
 * `custom_image` at signup and switch (agent type `custom`): what the customer's image is, where it
 * listens, where it answers health probes, its plain env and, for a private image, the credentials.
 * Anything else (`user`, `privileged`, `network_mode`, `volumes`, ...) is refused naming the key.
 * Where the image may come from (the operator's allow list) and which env names the platform keeps
 * are checked against the agent and the configuration (custom-images.service.ts).
 */
export const customImageSchema = z
  .looseObject({
    image: z
      .string('is required')
      .trim()
      .min(1, 'is required')
      .superRefine((v, ctx) => {
        const problem = imageRefProblem(v, { pinned: true });
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
        else if (!PLAIN_IMAGE.test(v)) ctx.addIssue({ code: 'custom', message: 'must be a plain lower-case reference: [host[:port]/]path:tag or ...@sha256:<digest>' });
      }),
    internal_port: z.number('must be the port number the image listens on (1-65535)').int('must be a whole number').min(1, 'must be 1-65535').max(65535, 'must be 1-65535'),
    health_path: z
      .string('is required')
      .max(200, 'must be at most 200 characters')
      .regex(HEALTH_PATH, 'must be an absolute URL path such as /health (letters, digits and / _ . ~ % -)'),
    env: z.record(z.string(), z.string('must be a string')).optional(),
    registry_auth: registryAuthSchema.optional(),
  })
  .superRefine(
    (v, ctx) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return;
      for (const key of Object.keys(v)) {
        if ((CUSTOM_IMAGE_KEYS as readonly string[]).includes(key)) continue;
        const why = REFUSED_KEYS[key.toLowerCase()];
        ctx.addIssue({ code: 'custom', path: [key], message: why ? `is not allowed: ${why}` : `is not allowed (custom_image takes ${CUSTOM_IMAGE_KEYS.join(', ')})` });
      }
      const env = (v as { env?: unknown }).env;
      if (typeof env !== 'object' || env === null) return;
      const names = Object.keys(env);
      if (names.length > MAX_ENV_VARS) ctx.addIssue({ code: 'custom', path: ['env'], message: `at most ${MAX_ENV_VARS} variables` });
      for (const name of names) {
        const value = (env as Record<string, unknown>)[name];
        if (!ENV_NAME.test(name) || name.length > 128) {
          ctx.addIssue({ code: 'custom', path: ['env', name], message: 'is not a valid variable name (letters, digits and _, not starting with a digit, at most 128)' });
        } else if (typeof value === 'string' && (value.length > MAX_ENV_VALUE_LENGTH || value.includes('\0'))) {
          ctx.addIssue({ code: 'custom', path: ['env', name], message: `must be at most ${MAX_ENV_VALUE_LENGTH} characters, without NUL` });
        }
      }
    },
    { when: () => true },
  );
export type CustomImageInput = z.infer<typeof customImageSchema>;
