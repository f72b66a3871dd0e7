import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvalidArgumentError } from '@berth/domain';
import { createLogger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { FakeImages } from '../runtime/fake-images';
import { ImageCache, imageKey } from './image-cache';
import { ImagePullError } from './image-errors';
import { ImageService } from './image.service';

/** Eviction and the kept list against FakeImages: disk use is what the fake "node" holds. */
describe('ImageCache: kept images and eviction (FakeImages)', () => {
  const R = '127.0.0.1:5000/team';
  const img = (name: string) => `${R}/${name}:1.0`;
  let images: FakeImages;
  let metrics: NodeMetrics;
  let logs: string[];
  let inUse: string[];
  let clock: number;
  let stateDir: string;

  const service = (budgetBytes: number) => {
    const svc = new ImageService(
      images,
      metrics,
      { budgetBytes, retryWindowMs: 100, stallMs: 0, backoffMs: 5, stateDir, now: () => ++clock },
      createLogger('debug', 'unit', (l) => logs.push(l)),
    );
    svc.cache.useInUse(async () => inUse);
    return svc;
  };
  const onNode = () => [...images.present.keys()].sort();
  const evictions = async () => (await metrics.imageEvictions.get()).values[0]?.value ?? 0;
  /** After-pull eviction runs in the background: wait for it. */
  const settled = (svc: ImageService) => svc.cache.idle();

  beforeEach(() => {
    images = new FakeImages();
    images.countImagesOnDisk = true;
    // Layers are compressed: 10 000 bytes to download, 40 000 on disk.
    images.pulledSizeBytes = 40_000;
    metrics = new NodeMetrics();
    logs = [];
    inUse = [];
    clock = 1000;
    stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-image-cache-'));
  });
  afterEach(() => fs.rmSync(stateDir, { recursive: true, force: true }));

  it('after a pull past the budget, evicts the least recently used unused image it pulled, until under', async () => {
    const svc = service(100_000);
    await svc.ensure(img('a'));
    await svc.ensure(img('b'));
    expect((await svc.ensure(img('a'))).cached).toBe(true); // a used again: b is now the oldest
    await svc.ensure(img('c'));
    await settled(svc);
    expect(images.removals).toEqual([img('b')]);
    expect(onNode()).toEqual([img('a'), img('c')]);
    expect(await evictions()).toBe(1);
    expect(svc.lastDiskUsage).toBe(80_000);
    expect((await metrics.imageBytes.get()).values[0].value).toBe(80_000);
  });

  it('never evicts images slots use, kept images, images it did not pull, nor one a container holds', async () => {
    const svc = service(200_000);
    images.add(img('theirs'), undefined, 40_000); // on the engine, not pulled by the daemon
    for (const n of ['kept', 'slot', 'other', 'old']) await svc.ensure(img(n));
    svc.cache.setKept([img('kept')]);
    inUse = [`${R}/slot:1.0`];
    images.usedByContainers.add(img('other')); // a container of another node: the engine refuses
    images.diskUsedBytes = 100_000; // the engine grew past the budget
    expect(svc.cache.pulledByUs(img('theirs'))).toBe(false);

    // Over the budget before the pull: make room first, then refuse since it still does not fit.
    const e = await svc.ensure(img('new')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ImagePullError);
    expect((e as ImagePullError).reason).toBe('image_too_large');
    // other is tried again when making room for the pull: a container may have let it go.
    expect(images.removals).toEqual([img('other'), img('old'), img('other')]);
    expect(onNode()).toEqual([img('kept'), img('other'), img('slot'), img('theirs')]);
    expect(await evictions()).toBe(1);
    expect(logs.join('\n')).toMatch(/stays over the budget/);
  });

  it('makes room before refusing a pull too large for what is left, then pulls', async () => {
    const svc = service(100_000);
    await svc.ensure(img('a'));
    await svc.ensure(img('b'));
    images.layers = [{ id: 'big', size: 30_000 }]; // needs 30 000, 20 000 is left
    const r = await svc.ensure(img('c'));
    expect(r.cached).toBe(false);
    expect(images.removals).toEqual([img('a')]);
    expect(images.pulls).toEqual([img('a'), img('b'), img('c'), img('c')]);
    expect(onNode()).toEqual([img('b'), img('c')]);
    expect((await metrics.imagePulls.get()).values.map((v) => [v.labels.result, v.value])).toEqual([['ok', 3]]);
  });

  it('the image just pulled is never evicted for the budget, even when it alone passes it', async () => {
    const svc = service(30_000);
    await svc.ensure(img('a'));
    await settled(svc);
    expect(onNode()).toEqual([img('a')]); // over the budget, but it is the one just pulled
    await svc.ensure(img('b')); // over before the pull: a goes first
    await settled(svc);
    expect(onNode()).toEqual([img('b')]);
    expect(images.removals).toEqual([img('a')]);
    await svc.cache.makeRoom();
    expect(onNode()).toEqual([]); // once nothing holds it, an unused pulled image may go
  });

  it('keeps the kept list and what it pulled in the state dir across a restart', async () => {
    const svc = service(1_000_000);
    await svc.ensure(img('a'));
    svc.cache.setKept(['alpine:3.19', img('k')]);
    const again = new ImageCache(images, metrics, { budgetBytes: 1, stateDir }, createLogger('error', 'unit', () => undefined));
    expect(again.keptImages()).toEqual(['alpine:3.19', img('k')]);
    expect(again.pulledByUs(img('a'))).toBe(true);
    expect(fs.statSync(path.join(stateDir, 'images.json')).mode & 0o777).toBe(0o600);
    // kept under another spelling still protects it
    images.add('docker.io/library/alpine:3.19');
    again.touch('docker.io/library/alpine:3.19', true);
    await again.makeRoom();
    expect(images.present.has('docker.io/library/alpine:3.19')).toBe(true);
    expect(images.present.has(img('a'))).toBe(false);
  });

  it('refuses a kept list with an invalid reference, keeping the previous one', () => {
    const cache = new ImageCache(images, metrics, { budgetBytes: 1 }, createLogger('error', 'unit', () => undefined));
    cache.setKept([img('k')]);
    expect(() => cache.setKept([img('x'), 'Not An Image!'])).toThrow(InvalidArgumentError);
    expect(cache.keptImages()).toEqual([img('k')]);
    expect(imageKey('alpine:3.19')).toBe('docker.io/library/alpine:3.19');
  });
});
