/**
 * The node's image cache: which images to keep, which ones the daemon itself pulled, when each was
 * last used, and eviction when the engine's image disk use passes BERTH_NODE_IMAGE_BUDGET.
 *
 * - Kept: images used by this node's slots (any container it labelled, running or stopped, and
 *   deploys in progress), the kept list (`SetKeptImages`: the active catalogue's), and images being
 *   made ready right now (held by the image service).
 * - Evicted: only images the daemon pulled (the engine may be shared), least recently used first
 *   (used = pulled, deployed, started), one at a time until disk use is under the budget (plus what
 *   a pull needs). Removal is never forced: the engine refusing (a container uses it) skips it.
 * - The kept list and the pulled images with their last use live in `$BERTH_NODE_STATE_DIR/images.json`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseImageRef } from '@berth/domain';
import { errorMessage, Logger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { ImageRuntime } from '../runtime/container-runtime';

export interface ImageCacheOptions {
  budgetBytes: number;
  /** Where images.json is kept; without it the cache lives in memory only. */
  stateDir?: string;
  now?: () => number;
}

interface Entry {
  lastUsedMs: number;
  /** The daemon pulled it (only such images are ever evicted). */
  pulled: boolean;
}

interface StateFile {
  kept: string[];
  images: Record<string, Entry>;
}

export interface RoomResult {
  /** Image disk use after eviction (undefined: the engine would not say). */
  usedBytes?: number;
  evicted: string[];
}

/** One key per image however it is spelled: registry/repository@digest or registry/repository:tag. */
export function imageKey(image: string): string {
  try {
    const ref = parseImageRef(image);
    const name = `${ref.registry}/${ref.repository}`;
    return ref.digest ? `${name}@${ref.digest}` : `${name}:${ref.tag ?? 'latest'}`;
  } catch {
    return image;
  }
}

export class ImageCache {
  private keptList: string[] = [];
  private kept = new Set<string>();
  private readonly entries = new Map<string, Entry>();
  private readonly holds = new Map<string, number>();
  private inUse: () => Promise<Iterable<string>> = async () => [];
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;
  private readonly file?: string;
  /** The last image disk use read from the engine (heartbeats report it; no engine call each). */
  lastUsedBytes?: number;

  constructor(
    private readonly runtime: ImageRuntime,
    private readonly metrics: NodeMetrics,
    private readonly opts: ImageCacheOptions,
    private readonly log: Logger,
  ) {
    this.now = opts.now ?? Date.now;
    this.file = opts.stateDir && path.join(opts.stateDir, 'images.json');
    this.load();
  }

  /** Where the images this node's slots use come from (containers it labelled, deploys in progress). */
  useInUse(fn: () => Promise<Iterable<string>>): void {
    this.inUse = fn;
  }

  /** Replaces the kept list (validated first: an invalid reference refuses the whole list). */
  setKept(images: string[]): void {
    for (const i of images) parseImageRef(i);
    this.keptList = [...new Set(images)];
    this.kept = new Set(this.keptList.map(imageKey));
    this.save();
    this.log.info('kept images set', { images: this.keptList.length });
  }

  keptImages(): string[] {
    return [...this.keptList];
  }

  /** Marks `image` used now (and pulled by the daemon when `pulled`). */
  touch(image: string, pulled = false): void {
    const key = imageKey(image);
    const e = this.entries.get(key);
    this.entries.set(key, { lastUsedMs: this.now(), pulled: pulled || (e?.pulled ?? false) });
    this.save();
  }

  /** Stops tracking `image` (it was removed from the engine). */
  forget(image: string): void {
    if (this.entries.delete(imageKey(image))) this.save();
  }

  /** Whether the daemon pulled `image` (and still tracks it). */
  pulledByUs(image: string): boolean {
    return this.entries.get(imageKey(image))?.pulled ?? false;
  }

  /** Keeps `image` from eviction until the returned function is called. */
  hold(image: string): () => void {
    const key = imageKey(image);
    this.holds.set(key, (this.holds.get(key) ?? 0) + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const n = (this.holds.get(key) ?? 1) - 1;
      if (n > 0) this.holds.set(key, n);
      else this.holds.delete(key);
    };
  }

  /** Reads the engine's image disk use into the gauge and lastUsedBytes; undefined when it would not say. */
  async refreshDiskUsage(): Promise<number | undefined> {
    try {
      const used = await this.runtime.imageDiskUsage();
      this.metrics.imageBytes.set(used);
      this.lastUsedBytes = used;
      return used;
    } catch (e) {
      this.log.warn('cannot read image disk use', { error: errorMessage(e) });
      return undefined;
    }
  }

  /**
   * Evicts least recently used images the daemon pulled and nothing uses until disk use plus
   * `neededBytes` fits the budget, or nothing more may go. One eviction at a time.
   */
  makeRoom(neededBytes = 0): Promise<RoomResult> {
    const run = this.queue.then(() => this.evict(neededBytes));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Resolves when no eviction is running or queued. */
  async idle(): Promise<void> {
    await this.queue;
  }

  private async evict(neededBytes: number): Promise<RoomResult> {
    const evicted: string[] = [];
    let used = await this.refreshDiskUsage();
    const fits = () => used !== undefined && used + neededBytes <= this.opts.budgetBytes;
    if (used === undefined || fits()) return { usedBytes: used, evicted };

    const protectedKeys = new Set([...this.kept, ...this.holds.keys()]);
    try {
      for (const i of await this.inUse()) protectedKeys.add(imageKey(i));
    } catch (e) {
      // Without knowing what the slots use, nothing is evicted.
      this.log.warn('cannot list the images in use; evicting nothing', { error: errorMessage(e) });
      return { usedBytes: used, evicted };
    }
    const protectedIds = new Set<string>();
    for (const key of protectedKeys) {
      const info = await this.runtime.inspectImage(key).catch(() => null);
      if (info) protectedIds.add(info.id);
    }
    const candidates = [...this.entries]
      .filter(([key, e]) => e.pulled && !protectedKeys.has(key))
      .sort((a, b) => a[1].lastUsedMs - b[1].lastUsedMs);

    for (const [key, entry] of candidates) {
      const info = await this.runtime.inspectImage(key).catch(() => null);
      if (!info) {
        this.entries.delete(key);
        continue;
      }
      if (protectedIds.has(info.id)) continue;
      let result;
      try {
        result = await this.runtime.removeImage(key);
      } catch (e) {
        this.log.warn('cannot remove image', { image: key, error: errorMessage(e) });
        continue;
      }
      if (result === 'in_use') continue;
      this.entries.delete(key);
      if (result === 'missing') continue;
      evicted.push(key);
      this.metrics.imageEvictions.inc();
      used = await this.refreshDiskUsage();
      this.log.info('evicted image (image budget)', {
        image: key,
        lastUsed: new Date(entry.lastUsedMs).toISOString(),
        imageBytes: used,
        budgetBytes: this.opts.budgetBytes,
      });
      if (used === undefined || fits()) break;
    }
    this.save();
    if (!fits())
      this.log.warn('image disk use stays over the budget: nothing more may be evicted', {
        imageBytes: used,
        neededBytes,
        budgetBytes: this.opts.budgetBytes,
      });
    return { usedBytes: used, evicted };
  }

  private load(): void {
    if (!this.file) return;
    try {
      const s = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Partial<StateFile>;
      this.keptList = Array.isArray(s.kept) ? s.kept.filter((i) => typeof i === 'string') : [];
      this.kept = new Set(this.keptList.map(imageKey));
      for (const [k, e] of Object.entries(s.images ?? {}))
        if (e && typeof e.lastUsedMs === 'number') this.entries.set(k, { lastUsedMs: e.lastUsedMs, pulled: Boolean(e.pulled) });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.log.warn('cannot read the image cache state; starting empty', { file: this.file, error: errorMessage(e) });
    }
  }

  private save(): void {
    if (!this.file) return;
    const state: StateFile = { kept: this.keptList, images: Object.fromEntries(this.entries) };
    try {
      const tmp = `${this.file}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(state), { mode: 0o600 });
      fs.renameSync(tmp, this.file);
    } catch (e) {
      this.log.warn('cannot write the image cache state', { file: this.file, error: errorMessage(e) });
    }
  }
}
