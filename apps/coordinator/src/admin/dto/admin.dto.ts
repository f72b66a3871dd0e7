import { z } from 'zod';
import { imageRefProblem } from '@berth/domain';

/** Docker's reference grammar (a registry host may have a port), pinned by tag or digest. */
const image = z.string().superRefine((v, ctx) => {
  const problem = imageRefProblem(v, { pinned: true });
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

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
