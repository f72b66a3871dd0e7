import { z } from 'zod';

const image = z.string().regex(/^[a-z0-9]+([._/-][a-z0-9]+)*(:[A-Za-z0-9_.-]{1,128})?(@sha256:[a-f0-9]{64})?$/, 'must be an image reference with a tag or digest').max(255);

export const agentTypePatchSchema = z
  .strictObject({
    base_image: image.optional(),
    is_active: z.boolean().optional(),
    name: z.string().min(1).max(80).optional(),
    description: z.string().max(2000).optional(),
    min_memory: z.string().regex(/^[0-9]+[MG]$/, 'must look like 512M or 1G').optional(),
    min_cpu: z.string().regex(/^[0-9]+(\.[0-9]+)?$/, 'must look like 0.25').optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'give at least one field');

export const llmProviderPatchSchema = z
  .strictObject({
    base_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048).nullable().optional(),
    is_active: z.boolean().optional(),
    name: z.string().min(1).max(80).optional(),
    description: z.string().max(2000).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'give at least one field');
