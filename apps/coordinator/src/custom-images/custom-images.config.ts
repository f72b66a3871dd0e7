import { z } from 'zod';
import { loadConfig } from '@berth/config';

/** Registries customers may name by default: the big public ones. */
export const DEFAULT_CUSTOM_IMAGE_REGISTRIES = 'docker.io,ghcr.io,quay.io';
/** Largest custom image by default, unpacked on the node. */
export const DEFAULT_CUSTOM_IMAGE_MAX_BYTES = '2GiB';

const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

/** Docker Hub has several names; the allow list and image references both use `docker.io`. */
export function normalRegistryHost(host: string): string {
  const h = host.trim().toLowerCase();
  return ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(h) ? 'docker.io' : h;
}

const bytes = z
  .string()
  .trim()
  .regex(/^\d+(\.\d+)?\s*([KMGT]i?B?|[kmgt]|B)?$/, 'must be a size like 500MiB, 2GiB or a number of bytes')
  .transform((v) => {
    const m = /^(\d+(?:\.\d+)?)\s*([KMGTkmgt])?/.exec(v)!;
    const mult = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[(m[2] ?? '').toUpperCase() as 'K'] ?? 1;
    return Math.round(Number(m[1]) * mult);
  })
  .refine((n) => n >= 1024 * 1024, 'must be at least 1MiB');

/**
 * What operators decide about images customers name (the `custom` agent), checked at boot:
 * where they may come from and how large they may be. docs/custom-images.md documents both.
 */
export const customImagesConfigSchema = z.object({
  /** Registry hosts (host[:port], comma-separated) customers may pull from; empty: custom images are off. */
  BERTH_CUSTOM_IMAGE_REGISTRIES: z
    .string()
    .prefault(DEFAULT_CUSTOM_IMAGE_REGISTRIES)
    .transform((v) => [...new Set(v.split(',').map(normalRegistryHost).filter(Boolean))])
    .refine((hosts) => hosts.every((h) => HOST.test(h)), 'must be registry hosts (host or host:port), comma-separated, e.g. docker.io,ghcr.io'),
  /** Largest custom image (unpacked on the node); the node checks it after the pull. */
  BERTH_CUSTOM_IMAGE_MAX_BYTES: bytes.prefault(DEFAULT_CUSTOM_IMAGE_MAX_BYTES),
});
export type CustomImagesConfig = z.infer<typeof customImagesConfigSchema>;
export const CUSTOM_IMAGES_CONFIG = Symbol('CustomImagesConfig');
export const loadCustomImagesConfig = (env: NodeJS.ProcessEnv = process.env): CustomImagesConfig => loadConfig(customImagesConfigSchema, env);
