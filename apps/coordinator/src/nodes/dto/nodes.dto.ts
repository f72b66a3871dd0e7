import { z } from 'zod';

export const createJoinTokenSchema = z
  .object({
    description: z.string().trim().min(1).max(200).optional(),
    ttl_seconds: z.number().int().min(60).max(30 * 86_400).optional(),
  })
  .strict();
export type CreateJoinTokenBody = z.infer<typeof createJoinTokenSchema>;

const hostPort = z
  .string()
  .max(260)
  .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port of the daemon gRPC endpoint, e.g. 10.0.0.5:7443')
  .refine((v) => {
    const p = Number(v.slice(v.lastIndexOf(':') + 1));
    return p >= 1 && p <= 65535;
  }, 'port must be 1-65535');

export const enrolSchema = z
  .object({
    join_token: z.string().min(1).max(200),
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, 'must be 1-63 characters of A-Z a-z 0-9 _ . -'),
    address: hostPort,
    tls_fingerprint_sha256: z
      .string()
      .transform((v) => v.replace(/[^a-fA-F0-9]/g, ''))
      .refine((v) => v.length === 64, 'must be a SHA-256 fingerprint (64 hex digits, colons allowed)'),
    allocatable_memory_mb: z.number().int().min(0).max(64 * 1024 * 1024).optional(),
    allocatable_cpu_millis: z.number().int().min(0).max(1024 * 1000).optional(),
    port_range: z
      .object({ from: z.number().int().min(1).max(65535), to: z.number().int().min(1).max(65535) })
      .refine((r) => r.from <= r.to, 'from must be <= to')
      .optional(),
    public_host: z.string().min(1).max(253).optional(),
    labels: z.record(z.string().max(63), z.string().max(253)).optional(),
    agent_version: z.string().max(64).optional(),
  })
  .strict();
export type EnrolBody = z.infer<typeof enrolSchema>;
