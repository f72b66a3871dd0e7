import { z } from 'zod';
import { customImageSchema } from '../../custom-images/dto/custom-image.dto';

export const addonsSchema = z.strictObject({
  memory: z.boolean('must be true or false').default(false),
  cpu: z.boolean('must be true or false').default(false),
  priority_support: z.boolean('must be true or false').default(false),
});
export type AddonsDto = z.infer<typeof addonsSchema>;

export const TELEGRAM_TOKEN = /^\d{6,12}:[A-Za-z0-9_-]{30,}$/;

/** What a customer picks for a slot, as signup (accounts/dto) and switch both take it; the key is not here (required at signup, optional on switch). */
export const selectionFields = {
  agent_type_id: z.string('is required').min(1, 'is required').max(64),
  llm_provider_id: z.string('is required').min(1, 'is required').max(64),
  llm_base_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048).optional(),
  telegram_bot_token: z.string().regex(TELEGRAM_TOKEN, 'must look like 123456789:AA... (a Telegram bot token)').optional(),
  config: z.record(z.string(), z.unknown()).default({}),
  /** The custom agent's image (custom-images/dto): its port, health path, env and registry credentials. */
  custom_image: customImageSchema.optional(),
};
const { agent_type_id, llm_provider_id, llm_base_url, telegram_bot_token, config, custom_image } = selectionFields;

/** POST /api/slot/switch: another agent and/or provider; the key is optional when the provider stays. */
export const switchSchema = z.strictObject({
  agent_type_id,
  llm_provider_id,
  llm_api_key: z.string().min(1).max(512).optional(),
  llm_base_url,
  telegram_bot_token,
  config,
  custom_image,
});
export type SwitchDto = z.infer<typeof switchSchema>;

export const logsQuerySchema = z.object({
  tail: z.coerce.number().int().min(0).max(10_000).default(200),
  follow: z.enum(['0', '1', 'true', 'false']).default('0').transform((v) => v === '1' || v === 'true'),
});
