/**
 * Image references as the image service uses them: pinned ones only, one key per image (so two
 * spellings of one image share a pull), the digest Docker recorded for the image's repository,
 * and whether credentials belong to the image's registry.
 */
import { ImageRef, InvalidArgumentError, isPinned, parseImageRef } from '@berth/domain';

/** Parses `image`; an unpinned one (untagged or `:latest`) is refused. */
export function pinnedRef(image: string): ImageRef {
  const ref = parseImageRef(image);
  if (!isPinned(ref))
    throw new InvalidArgumentError(`image '${image}' must pin a tag or a digest (not :latest)`);
  return ref;
}

/**
 * The reference the engine is asked for, which is also the single-flight key: by digest when there
 * is one (the engine ignores a tag next to a digest), else registry/repository:tag.
 */
export function engineRef(ref: ImageRef): string {
  const name = `${ref.registry}/${ref.repository}`;
  return ref.digest ? `${name}@${ref.digest}` : `${name}:${ref.tag}`;
}

/**
 * The image's `repository@sha256:...` among the engine's RepoDigests for `ref`'s repository (the
 * one with ref's digest when it names one); '' when the image never came from that repository
 * (built on the node).
 */
export function digestFor(ref: ImageRef, repoDigests: string[]): string {
  const ours = repoDigests.filter((d) => {
    try {
      const r = parseImageRef(d);
      return r.registry === ref.registry && r.repository === ref.repository && r.digest;
    } catch {
      return false; // "<none>@<none>"
    }
  });
  return (ref.digest && ours.find((d) => d.endsWith(`@${ref.digest}`))) || ours[0] || '';
}

/** Whether credentials given for `server` are for `registry` (Docker Hub has several names). */
export function sameRegistry(server: string, registry: string): boolean {
  return normalRegistry(server) === normalRegistry(registry);
}

function normalRegistry(host: string): string {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^https?:\/\//, '')
    .replace(/\/.*$/, '');
  return ['index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com'].includes(h) ? 'docker.io' : h;
}
