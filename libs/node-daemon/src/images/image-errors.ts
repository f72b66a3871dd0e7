/**
 * Why an image could not be made ready on this node, each with a sentence an operator can act on.
 * The reasons are the ones the Deploy and PullImage streams carry (proto FailureReason).
 */
import { DomainError } from '@berth/domain';
import type { ImagePullFailure, RegistryCredentials } from '../runtime/container-runtime';

export type ImageFailureReason =
  | 'image_not_found'
  | 'registry_auth'
  | 'registry_unreachable'
  | 'image_too_large'
  | 'image_pull'
  | 'image_over_limit';

/** A pull that failed for good (after any retries); its message never carries credentials. */
export class ImagePullError extends DomainError {
  constructor(
    readonly reason: ImageFailureReason,
    message: string,
    /** With image_too_large: the bytes the pull's layers needed when it was cut off (a lower bound). */
    readonly neededBytes?: number,
  ) {
    super('FAILED_PRECONDITION', message);
  }
}

/** What a pull was for, to say so in its error. */
export interface PullContext {
  image: string;
  registry: string;
  auth?: RegistryCredentials;
}

/** The error for an engine failure that is not worth another try (or ran out of tries). */
export function pullError(f: ImagePullFailure, c: PullContext): ImagePullError {
  const detail = redact(f.detail, c.auth);
  switch (f.kind) {
    case 'not_found':
      return new ImagePullError(
        'image_not_found',
        `image ${c.image} not found: registry ${c.registry} has no such repository, tag or digest (${detail})`,
      );
    case 'unauthorized':
      return new ImagePullError(
        'registry_auth',
        c.auth
          ? `registry ${c.registry} refused the credentials sent for ${c.image} (${detail})`
          : `registry ${c.registry} wants credentials for ${c.image} and none are configured for it (${detail})`,
      );
    case 'unreachable':
    case 'transient':
      return new ImagePullError('registry_unreachable', `registry ${c.registry} is unreachable: ${detail}`);
    default:
      return new ImagePullError('image_pull', `pulling ${c.image} failed: ${detail}`);
  }
}

/** Transient failures went on past the retry window. */
export function retriesExhausted(
  f: ImagePullFailure,
  c: PullContext,
  attempts: number,
  elapsedMs: number,
): ImagePullError {
  return new ImagePullError(
    'registry_unreachable',
    `registry ${c.registry} kept failing while pulling ${c.image} (${attempts} attempts in ${Math.round(elapsedMs / 1000)} s): ${redact(f.detail, c.auth)}`,
  );
}

export function tooLarge(c: PullContext, neededBytes: number, leftBytes: number, budgetBytes: number): ImagePullError {
  return new ImagePullError(
    'image_too_large',
    `image ${c.image} does not fit in this node's image budget: its layers need at least ${formatBytes(neededBytes)}, ` +
      `${formatBytes(leftBytes)} of ${formatBytes(budgetBytes)} is left (BERTH_NODE_IMAGE_BUDGET)`,
    neededBytes,
  );
}

/**
 * The image is larger than the deploy allows (`max_image_bytes`: the operator's limit on images a
 * customer names). `sizeBytes` is the unpacked size after a pull, or the layers' summed (compressed)
 * sizes when the pull was cut off early, which is a lower bound (`atLeast`).
 */
export function overLimit(image: string, sizeBytes: number, limitBytes: number, opts: { atLeast?: boolean; removed?: boolean } = {}): ImagePullError {
  const size = `${opts.atLeast ? 'at least ' : ''}${formatBytes(sizeBytes)}`;
  return new ImagePullError(
    'image_over_limit',
    `image ${image} is ${size}, over the ${formatBytes(limitBytes)} size limit for custom images` +
      (opts.removed ? '; it was removed from the node' : opts.atLeast ? '; the pull was stopped' : ''),
  );
}

/** The engine never echoes credentials; this makes sure a message cannot carry the password anyway. */
export function redact(text: string, auth?: RegistryCredentials): string {
  return auth?.password ? text.split(auth.password).join('***') : text;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}
