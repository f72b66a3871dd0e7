import { z } from 'zod';
import { imageRefProblem, parseImageRef } from '@berth/domain';

/**
 * A registry host exactly as image references name it: `host[:port]`, lower-cased (docker.io for
 * Docker Hub). Checked by Docker's own grammar: `<host>/x:1` must read back with `<host>` as its
 * registry, so `index.docker.io` (Docker Hub is docker.io) or `team` (a Docker Hub namespace) are refused.
 */
export function registryHostProblem(host: string): string | null {
  const probe = `${host}/berth-probe:1`;
  const port = /:([0-9]+)$/.exec(host)?.[1];
  const badPort = port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535);
  if (host.length === 0 || host.length > 253 || badPort || /[/@\s]/.test(host) || imageRefProblem(probe) !== null || parseImageRef(probe).registry !== host) {
    return 'must be a registry host[:port] as image references name it, e.g. registry.example.com or 127.0.0.1:5000 (Docker Hub: docker.io)';
  }
  return null;
}

export const registryHostSchema = z
  .string()
  .transform((v) => v.toLowerCase())
  .superRefine((v, ctx) => {
    const problem = registryHostProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The route's parameters, so a bad host is reported under `fields.host`. */
export const registryParamsSchema = z.object({ host: registryHostSchema });

export const registryCredentialSchema = z.strictObject({
  // HTTP basic auth: a username cannot hold a colon.
  username: z
    .string()
    .min(1, 'is required')
    .max(255)
    .regex(/^[^:\p{Cc}]+$/u, 'must not contain a colon or control characters'),
  password: z.string().min(1, 'is required').max(8192),
});
export type RegistryCredentialBody = z.infer<typeof registryCredentialSchema>;
