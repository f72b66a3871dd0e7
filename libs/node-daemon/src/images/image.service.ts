/**
 * The image service: makes an image ready on this node for a deploy or a pre-pull.
 *
 * - An image already on the node under a pinned tag or digest is used as it is: no registry
 *   round trip, so a registry outage does not stop deploys of cached images. Unpinned references
 *   (untagged, `:latest`) are refused.
 * - Concurrent callers of one image share one pull (single flight) and all see its progress.
 * - Progress is summed per pull and throttled (pull-progress.ts).
 * - Transient failures (connection reset, registry 5xx, timeouts, a pull that stalls) are retried
 *   with backoff inside `retryWindowMs`; permanent ones fail at once, each with its own reason
 *   (image-errors.ts).
 * - A pull is cut off as soon as its layers' summed sizes exceed what is left of the image budget;
 *   before refusing it, room is made by evicting least recently used unused images the daemon
 *   pulled (image-cache.ts), and the pull is tried again. After a pull, disk use past the budget
 *   evicts the same way.
 * - Credentials are passed to the engine for that pull only: never logged, never in a message.
 * - An image a customer named (EnsureOptions) is always asked of the registry with that deploy's
 *   own credentials, even when it is on the node, and shares no pull made with other credentials
 *   (a copy another slot pulled never runs for a slot that could not pull it); and it may be no
 *   larger than the deploy's limit: a pull whose layers already pass it is stopped, and an image
 *   larger after the pull is refused and, when this pull brought it, removed again.
 */
import { ImageRef } from '@berth/domain';
import { createHash } from 'node:crypto';
import { errorMessage, Logger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import {
  ImageInfo,
  ImagePullFailure,
  ImageRuntime,
  RegistryCredentials,
} from '../runtime/container-runtime';
import {
  ImagePullError,
  overLimit,
  PullContext,
  pullError,
} from './image-errors';
import { ImageCache } from './image-cache';
import { digestFor, engineRef, pinnedRef, sameRegistry } from './image-refs';
import { asFailure, PullAttempts } from './pull-attempts';
import { ProgressThrottle, PullProgress } from './pull-progress';

export interface ImageServiceOptions {
  /** BERTH_NODE_IMAGE_BUDGET: bytes the engine's images may take. */
  budgetBytes: number;
  /** BERTH_NODE_PULL_RETRY_MS: how long transient failures are retried before the pull fails. */
  retryWindowMs: number;
  /** BERTH_NODE_PULL_STALL_MS: a pull with no progress for this long is cut off (0: never). */
  stallMs: number;
  /** BERTH_NODE_STATE_DIR: where the image cache keeps its kept list and last uses (none: memory only). */
  stateDir?: string;
  /** At most one progress event per interval, plus layer completions. Default 250 (4/s). */
  progressIntervalMs?: number;
  /** First retry delay, doubled per retry up to maxBackoffMs. Defaults 1000 and 15000. */
  backoffMs?: number;
  maxBackoffMs?: number;
  now?: () => number;
}

export const DEFAULT_IMAGE_OPTIONS: ImageServiceOptions = {
  budgetBytes: 20 * 1024 ** 3,
  retryWindowMs: 120_000,
  stallMs: 60_000,
};

/** How a deploy wants its image made ready (an image a customer named: both set). */
export interface EnsureOptions {
  /** Ask the registry even when the image is on the node (with this call's credentials only). */
  alwaysPull?: boolean;
  /** The largest image allowed, unpacked bytes on the node; 0 or undefined: no limit. */
  maxBytes?: number;
}

export interface EnsuredImage {
  image: string;
  /** `repository@sha256:...`, or '' for an image that came from no registry (built on the node). */
  digest: string;
  /** It was on the node already: no registry round trip was made. */
  cached: boolean;
  sizeBytes: number;
}

/** One pull in flight, shared by every caller of its image. */
interface Flight {
  result: Promise<EnsuredImage>;
  listeners: Set<(p: PullProgress) => void>;
  last?: PullProgress;
}

export class ImageService {
  private readonly flights = new Map<string, Flight>();
  private readonly now: () => number;
  /** Kept list, last uses, eviction. */
  readonly cache: ImageCache;
  private readonly attempts: PullAttempts;

  constructor(
    private readonly runtime: ImageRuntime,
    private readonly metrics: NodeMetrics,
    private readonly opts: ImageServiceOptions,
    private readonly log: Logger,
  ) {
    this.now = opts.now ?? Date.now;
    this.cache = new ImageCache(runtime, metrics, { budgetBytes: opts.budgetBytes, stateDir: opts.stateDir, now: this.now }, log);
    this.attempts = new PullAttempts(runtime, opts, log, this.now);
  }

  /**
   * Makes `image` ready on the node: the cached one, or pulled (joining a pull in flight).
   * `onProgress` hears the pull's progress (nothing for a cached image). Throws
   * InvalidArgumentError for an unpinned or invalid reference, ImagePullError when it cannot.
   */
  async ensure(
    image: string,
    auth?: RegistryCredentials,
    onProgress?: (p: PullProgress) => void,
    opts: EnsureOptions = {},
  ): Promise<EnsuredImage> {
    const ref = pinnedRef(image);
    const credentials = this.credentialsFor(image, ref, auth);
    const key = flightKey(engineRef(ref), credentials, opts);
    let flight = this.flights.get(key);
    if (!flight) {
      const f: Flight = { listeners: new Set(), result: Promise.resolve() as never };
      f.result = this.makeReady(image, ref, credentials, f, opts).finally(() => {
        if (this.flights.get(key) === f) this.flights.delete(key);
      });
      this.flights.set(key, (flight = f));
    }
    if (!onProgress) return flight.result;
    flight.listeners.add(onProgress);
    if (flight.last) onProgress({ ...flight.last });
    try {
      return await flight.result;
    } finally {
      flight.listeners.delete(onProgress);
    }
  }

  /** Refreshes the image disk-use gauge; the bytes, or undefined when the engine would not say. */
  refreshDiskUsage(): Promise<number | undefined> {
    return this.cache.refreshDiskUsage();
  }

  /** The last image disk use read (start, around pulls, evictions): no engine call. */
  get lastDiskUsage(): number {
    return this.cache.lastUsedBytes ?? 0;
  }

  private credentialsFor(image: string, ref: ImageRef, auth?: RegistryCredentials) {
    if (!auth || !auth.server || sameRegistry(auth.server, ref.registry)) return auth;
    // Never hand one registry's credentials to another.
    this.log.warn('registry credentials are for another registry; pulling without them', {
      image,
      registry: ref.registry,
      credentialsFor: auth.server,
    });
    return undefined;
  }

  private async makeReady(
    image: string,
    ref: ImageRef,
    auth: RegistryCredentials | undefined,
    flight: Flight,
    opts: EnsureOptions,
  ): Promise<EnsuredImage> {
    const c: PullContext = { image, registry: ref.registry, auth };
    const key = engineRef(ref);
    const release = this.cache.hold(key);
    let pulled = false;
    try {
      const cached = await this.inspect(key, c);
      if (cached && !opts.alwaysPull) {
        this.cache.touch(key);
        return await this.withinLimit(this.ready(image, ref, cached, true), opts.maxBytes, false);
      }
      const done = await this.pull(image, ref, c, flight, opts.maxBytes, !cached);
      pulled = true;
      return await this.withinLimit(done, opts.maxBytes, !cached);
    } finally {
      // After a pull past the budget, evict others; this image stays held until that is done.
      if (!pulled) release();
      else
        void this.cache
          .makeRoom()
          .catch((e: unknown) => this.log.warn('image eviction failed', { error: errorMessage(e) }))
          .finally(release);
    }
  }

  /**
   * The image, when it is within `maxBytes`; else the deploy is refused (image_over_limit) and the
   * image, when this call brought it to the node (`removable`), is removed again (never forced: a
   * container using it keeps it).
   */
  private async withinLimit(ready: EnsuredImage, maxBytes: number | undefined, removable: boolean): Promise<EnsuredImage> {
    if (!maxBytes || ready.sizeBytes <= maxBytes) return ready;
    let removed = false;
    if (removable) {
      const key = engineRef(pinnedRef(ready.image));
      try {
        const r = await this.runtime.removeImage(key);
        removed = r !== 'in_use';
        if (removed) this.cache.forget(key);
      } catch (e) {
        this.log.warn('cannot remove an image over its size limit', { image: ready.image, error: errorMessage(e) });
      }
    }
    const err = overLimit(ready.image, ready.sizeBytes, maxBytes, { removed });
    this.log.info('image refused: over its size limit', { image: ready.image, sizeBytes: ready.sizeBytes, maxBytes, removed });
    throw err;
  }

  /** `maxBytes`: stop a pull whose layers already pass it. `fresh`: the image was not on the node before. */
  private async pull(
    image: string,
    ref: ImageRef,
    c: PullContext,
    flight: Flight,
    maxBytes: number | undefined,
    fresh: boolean,
  ): Promise<EnsuredImage> {
    const throttle = new ProgressThrottle(
      this.opts.progressIntervalMs ?? 250,
      (p) => {
        flight.last = p;
        for (const l of flight.listeners) l({ ...p });
      },
      this.now,
    );
    throttle.offer({ layersDone: 0, layersTotal: 0, bytesDone: 0, bytesTotal: 0 }, true);
    const timer = this.metrics.imagePullDuration.startTimer();
    this.log.info('pulling image', { image, registry: ref.registry, withCredentials: Boolean(c.auth) });
    let result = 'ok';
    try {
      // Already past the budget: make room first.
      let used = (await this.cache.makeRoom()).usedBytes ?? 0;
      for (let round = 1; ; round++) {
        try {
          await this.attempts.pull(ref, c, Math.max(0, this.opts.budgetBytes - used), throttle, maxBytes);
          break;
        } catch (e) {
          // Too large for what is left: evict for what it needs, then try again; refuse when
          // nothing more could go.
          if (!(e instanceof ImagePullError) || e.reason !== 'image_too_large' || round >= MAX_ROOM_ROUNDS) throw e;
          const room = await this.cache.makeRoom(e.neededBytes ?? 0);
          if (!room.evicted.length) throw e;
          used = room.usedBytes ?? used;
          this.log.info('made room in the image budget; pulling again', { image, evicted: room.evicted.length });
        }
      }
      const info = await this.inspect(engineRef(ref), c);
      if (!info) throw new ImagePullError('image_pull', `pulling ${image} ended without the image on the node`);
      this.cache.touch(engineRef(ref), fresh);
      const done = this.ready(image, ref, info, false);
      this.log.info('image pulled', { image, digest: done.digest });
      return done;
    } catch (e) {
      const err = e instanceof ImagePullError ? e : pullError(asFailure(e), c);
      result = err.reason;
      this.log.warn('image pull failed', { image, reason: err.reason, error: err.message });
      throw err;
    } finally {
      this.metrics.imagePulls.inc({ result });
      timer({ result });
    }
  }

  private ready(image: string, ref: ImageRef, info: ImageInfo, cached: boolean): EnsuredImage {
    return { image, digest: digestFor(ref, info.repoDigests), cached, sizeBytes: info.sizeBytes };
  }

  private async inspect(engineImage: string, c: PullContext): Promise<ImageInfo | null> {
    try {
      return await this.runtime.inspectImage(engineImage);
    } catch (e) {
      throw pullError(new ImagePullFailure('failed', `the engine could not inspect it: ${errorMessage(e)}`), c);
    }
  }
}

/** Make-room-and-pull-again rounds before a pull too large for the budget is refused. */
const MAX_ROOM_ROUNDS = 4;

/**
 * The single-flight key: the engine reference; for an image a customer named, also the credentials
 * (hashed) and the limit, so a pull is shared only by callers that could each have made it.
 */
function flightKey(engineImage: string, auth: RegistryCredentials | undefined, opts: EnsureOptions): string {
  if (!opts.alwaysPull && !opts.maxBytes) return engineImage;
  const who = auth
    ? createHash('sha256').update(`${auth.server}\0${auth.username}\0${auth.password}`).digest('hex').slice(0, 32)
    : 'anonymous';
  return `${engineImage}\0${opts.alwaysPull ? 'always' : 'cached'}\0${opts.maxBytes ?? 0}\0${who}`;
}
