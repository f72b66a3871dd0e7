import { z } from 'zod';

/**
 * Checks the environment once at boot against a zod schema whose keys are the variable
 * names. A bad or missing variable fails fast with a message that names it.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig<S extends z.ZodObject<z.ZodRawShape>>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const value = env[String(issue.path[0])];
    const shown = value === undefined ? 'unset' : `got ${JSON.stringify(value.length > 60 ? value.slice(0, 60) + '…' : value)}`;
    return `${name}: ${issue.message} (${shown})`;
  });
  throw new ConfigError(problems);
}

/** "20000-29999" -> { from: 20000, to: 29999 }. Give defaults with .prefault(string) (zod 4: .default would skip the transform). */
export const portRange = z
  .string()
  .regex(/^\d{1,5}-\d{1,5}$/, 'must look like 20000-29999')
  .transform((v) => {
    const [from, to] = v.split('-').map(Number);
    return { from, to };
  })
  .refine((r) => r.from >= 1 && r.to <= 65535 && r.from <= r.to, 'must be an ascending range within 1-65535');

export const port = z.coerce.number().int().min(0).max(65535);

export const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
