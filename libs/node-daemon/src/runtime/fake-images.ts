import { createHash } from 'node:crypto';
import { parseImageRef } from '@berth/domain';
import {
  ImageInfo,
  ImagePullFailure,
  ImageRemoval,
  ImageRuntime,
  PullFailureKind,
  PullImageOptions,
  RegistryCredentials,
} from './container-runtime';

/**
 * The image half of FakeRuntime: images on the "node" in a map, and a "registry" that has every
 * image unless a spec says otherwise. A spec can put an image on the node (`add`), make the next
 * pulls fail in any of the ways the engine reports (`failNextPull`), hold pulls half-way
 * (`holdPulls`, to join a pull in flight or let a stall timer fire), and count them (`pulls`).
 */
export class FakeImages implements ImageRuntime {
  readonly present = new Map<string, ImageInfo>();
  /** Every pull asked of the engine, by reference, and the credentials each was given. */
  readonly pulls: string[] = [];
  readonly pullAuths: (RegistryCredentials | undefined)[] = [];
  /** The layers every image has in the fake registry (compressed sizes). */
  layers: { id: string; size: number }[] = [
    { id: 'layer-a', size: 3000 },
    { id: 'layer-b', size: 7000 },
  ];
  /** Layers the node has already (pulls report them as present, without bytes). */
  readonly presentLayers = new Set<string>();
  diskUsedBytes = 0;
  /** When set, disk use also counts every image on the node (its sizeBytes, once per image id). */
  countImagesOnDisk = false;
  /** The on-disk size of images pulled from now on (default: their layers' summed sizes). */
  pulledSizeBytes?: number;
  /** References the "engine" refuses to remove (a container uses them). */
  readonly usedByContainers = new Set<string>();
  /** Every removal asked of the engine, by reference. */
  readonly removals: string[] = [];
  /** inspectImage throws this while set (the engine not answering). */
  inspectError?: Error;
  private readonly failures: ImagePullFailure[] = [];
  private held?: { wait: Promise<void>; release: () => void };

  /** The next pull fails this way (queue: each call adds one more failing pull). */
  failNextPull(kind: PullFailureKind, detail = `fake ${kind}`): void {
    this.failures.push(new ImagePullFailure(kind, detail));
  }

  /** Pulls from now on stop after their first layer's progress until the returned function is called. */
  holdPulls(): () => void {
    let release!: () => void;
    const wait = new Promise<void>((r) => (release = r));
    this.held = { wait, release };
    return () => {
      this.held = undefined;
      release();
    };
  }

  /** Puts an image on the node, as if pulled (or built there: `repoDigests` empty). */
  add(image: string, repoDigests: string[] = [fakeDigestRef(image)], sizeBytes = this.imageSize()): ImageInfo {
    const info = { id: `sha256:${sha256(`id:${image}`)}`, repoDigests, sizeBytes };
    this.present.set(image, info);
    return info;
  }

  async pullImage(image: string, opts: PullImageOptions = {}): Promise<void> {
    this.pulls.push(image);
    this.pullAuths.push(opts.auth);
    const { signal, onLayer = () => undefined } = opts;
    const step = async () => {
      await Promise.resolve();
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
    };
    await step();
    const failure = this.failures.shift();
    if (failure) throw failure;
    for (const l of this.layers) onLayer({ layerId: l.id, phase: 'waiting' });
    let first = true;
    for (const l of this.layers) {
      if (this.presentLayers.has(l.id)) {
        onLayer({ layerId: l.id, phase: 'done', present: true });
        continue;
      }
      onLayer({ layerId: l.id, phase: 'downloading', currentBytes: l.size / 2, totalBytes: l.size });
      if (first && this.held) await this.waitHeld(signal);
      first = false;
      await step();
      onLayer({ layerId: l.id, phase: 'downloading', currentBytes: l.size, totalBytes: l.size });
      onLayer({ layerId: l.id, phase: 'downloaded', totalBytes: l.size });
      await step();
      onLayer({ layerId: l.id, phase: 'done' });
    }
    this.add(image, undefined, this.pulledSizeBytes);
  }

  async inspectImage(image: string): Promise<ImageInfo | null> {
    await Promise.resolve();
    if (this.inspectError) throw this.inspectError;
    return this.present.get(image) ?? null;
  }

  async imageDiskUsage(): Promise<number> {
    if (!this.countImagesOnDisk) return this.diskUsedBytes;
    const byId = new Map([...this.present.values()].map((i) => [i.id, i.sizeBytes]));
    return this.diskUsedBytes + [...byId.values()].reduce((n, b) => n + b, 0);
  }

  async removeImage(image: string): Promise<ImageRemoval> {
    await Promise.resolve();
    this.removals.push(image);
    if (this.usedByContainers.has(image)) return 'in_use';
    return this.present.delete(image) ? 'removed' : 'missing';
  }

  private imageSize(): number {
    return this.layers.reduce((n, l) => n + l.size, 0);
  }

  private waitHeld(signal?: AbortSignal): Promise<void> {
    const held = this.held!;
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal!.reason instanceof Error ? signal!.reason : new Error('aborted'));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      void held.wait.then(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }
}

/** The `repository@sha256:...` the fake registry serves for a reference. */
export function fakeDigestRef(image: string): string {
  const ref = parseImageRef(image);
  return `${ref.registry}/${ref.repository}@${ref.digest ?? `sha256:${sha256(image)}`}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
