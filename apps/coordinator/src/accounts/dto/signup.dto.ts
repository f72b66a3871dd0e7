import { z } from 'zod';

export const TELEGRAM_TOKEN = /^\d{6,12}:[A-Za-z0-9_-]{30,}$/;

/** The seed's POST /api/signup body plus password and add-ons. */
export const signupSchema = z.strictObject({
  email: z.string().trim().toLowerCase().max(254).pipe(z.email('must be a valid email address')),
  password: z.string('is required').max(256),
  agent_type_id: z.string('is required').min(1, 'is required').max(64),
  llm_provider_id: z.string('is required').min(1, 'is required').max(64),
  llm_api_key: z.string('is required').min(1, 'is required').max(512),
  llm_base_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048).optional(),
  telegram_bot_token: z.string().regex(TELEGRAM_TOKEN, 'must look like 123456789:AA... (a Telegram bot token)').optional(),
  config: z.record(z.string(), z.unknown()).default({}),
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
