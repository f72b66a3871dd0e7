import { z } from 'zod';
import { selectionFields } from '../../slots/dto/slot.dto';

const { agent_type_id, llm_provider_id, llm_base_url, telegram_bot_token, config, custom_image } = selectionFields;

/** The seed's POST /api/signup body plus password and add-ons. */
export const signupSchema = z.strictObject({
  email: z.string().trim().toLowerCase().max(254).pipe(z.email('must be a valid email address')),
  password: z.string('is required').max(256),
  agent_type_id,
  llm_provider_id,
  llm_api_key: z.string('is required').min(1, 'is required').max(512),
  llm_base_url,
  telegram_bot_token,
  config,
  custom_image,
  addons: z
    .strictObject({ memory: z.boolean().default(false), cpu: z.boolean().default(false), priority_support: z.boolean().default(false) })
    .default({ memory: false, cpu: false, priority_support: false }),
});
export type SignupDto = z.infer<typeof signupSchema>;

export const loginSchema = z.strictObject({
  email: z.string('is required').trim().toLowerCase().max(254),
  password: z.string('is required').max(256),
});
export type LoginDto = z.infer<typeof loginSchema>;
