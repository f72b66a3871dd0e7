/**
 * Image references by Docker's own grammar (distribution/reference, through
 * @swimlane/docker-reference): `[host[:port]/]path[:tag][@algorithm:digest]`, familiar names
 * (`alpine` = `docker.io/library/alpine`) included. One parser for the catalogue, the admin API,
 * the deploy spec's policy and the node's image cache, so they never disagree on what a
 * reference means or which registry holds it.
 */
import { parseFamiliarName } from '@swimlane/docker-reference';
import { InvalidArgumentError } from './errors';

/** Docker's cap on a whole reference. */
const MAX_REF_LENGTH = 255;

export interface ImageRef {
  /** Registry host, with its port when it has one (`127.0.0.1:5000`); `docker.io` for Docker Hub. */
  registry: string;
  /** Path inside the registry (`team/agent`; `library/alpine` for a familiar official image). */
  repository: string;
  tag?: string;
  digest?: string;
}

/** Why `text` is not a usable image reference, or null when it is. `pinned` also refuses an untagged or `:latest` reference. */
export function imageRefProblem(text: string, opts: { pinned?: boolean } = {}): string | null {
  if (typeof text !== 'string' || text.length === 0) return 'must be an image reference';
  if (text.length > MAX_REF_LENGTH) return `must be at most ${MAX_REF_LENGTH} characters`;
  let ref: ImageRef;
  try {
    ref = toImageRef(text);
  } catch (e) {
    return `is not a valid image reference (${(e as Error).message})`;
  }
  if (opts.pinned && !isPinned(ref)) return 'must pin a tag or a digest (not :latest)';
  return null;
}

/** Parses a reference; a bad one is an InvalidArgumentError naming the problem. */
export function parseImageRef(text: string): ImageRef {
  const problem = imageRefProblem(text);
  if (problem) throw new InvalidArgumentError(`image '${text}' ${problem}`);
  return toImageRef(text);
}

/** A digest, or a tag other than `latest`: the reference names one image, not whatever was pushed last. */
export function isPinned(ref: ImageRef): boolean {
  return ref.digest !== undefined || (ref.tag !== undefined && ref.tag !== 'latest');
}

function toImageRef(text: string): ImageRef {
  const r = parseFamiliarName(text);
  return {
    registry: r.domain ?? 'docker.io',
    repository: r.repository ?? '',
    ...(r.tag === undefined ? {} : { tag: r.tag }),
    ...(r.digest === undefined ? {} : { digest: r.digest }),
  };
}
