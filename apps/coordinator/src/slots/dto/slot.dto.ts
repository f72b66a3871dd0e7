import { z } from 'zod';
import { TELEGRAM_TOKEN } from '../../accounts/dto/signup.dto';

export const addonsSchema = z.strictObject({
  memory: z.boolean('must be true or false').default(false),
  cpu: z.boolean('must be true or false').default(false),
  priority_support: z.boolean('must be true or false').default(false),
});
export type AddonsDto = z.infer<typeof addonsSchema>;

/** POST /api/slot/switch: another agent and/or provider; the key is optional when the provider stays. */
export const switchSchema = z.strictObject({
  agent_type_id: z.string('is required').min(1, 'is required').max(64),
  llm_provider_id: z.string('is required').min(1, 'is required').max(64),
  llm_api_key: z.string().min(1).max(512).optional(),
  llm_base_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048).optional(),
  telegram_bot_token: z.string().regex(TELEGRAM_TOKEN, 'must look like 123456789:AA... (a Telegram bot token)').optional(),
  config: z.record(z.string(), z.unknown()).default({}),
});
export type SwitchDto = z.infer<typeof switchSchema>;

export const logsQuerySchema = z.object({
  tail: z.coerce.number().int().min(0).max(10_000).default(200),
  follow: z.enum(['0', '1', 'true', 'false']).default('0').transform((v) => v === '1' || v === 'true'),
});
