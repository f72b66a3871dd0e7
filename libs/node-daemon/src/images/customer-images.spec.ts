import { createLogger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { FakeImages } from '../runtime/fake-images';
import { ImagePullError } from './image-errors';
import { ImageService } from './image.service';

/**
 * Images a customer named (the `custom` agent): the deploy asks for them with `alwaysPull` and
 * `maxBytes`. A copy on the node never stands in for the registry's own answer to this slot's
 * credentials, a pull is shared only by callers with the same credentials, and an image over the
 * limit is refused with its own reason and, when this call pulled it, removed again.
 */
describe('ImageService: images a customer named (FakeImages)', () => {
  const IMAGE = 'ghcr.io/someone/agent:1.0';
  const MINE = { server: 'ghcr.io', username: 'me', password: 'my-own-registry-password' };
  const THEIRS = { server: 'ghcr.io', username: 'them', password: 'their-registry-password' };
  let images: FakeImages;
  let logs: string[];

  const service = () =>
    new ImageService(
      images,
      new NodeMetrics(),
      { budgetBytes: 1024 ** 3, retryWindowMs: 200, stallMs: 0, backoffMs: 5, maxBackoffMs: 20 },
      createLogger('debug', 'unit', (l) => logs.push(l)),
    );
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected it to fail');
      },
      (e: unknown) => {
        if (!(e instanceof ImagePullError)) throw e;
        return e;
      },
    );

  beforeEach(() => {
    images = new FakeImages();
    logs = [];
  });

  it('asks the registry even when the image is on the node: a copy another slot pulled does not run for a slot the registry refuses', async () => {
    images.add(IMAGE); // pulled earlier for another customer
    const svc = service();
    images.failNextPull('unauthorized', 'unauthorized: authentication required');
    const e = await failure(svc.ensure(IMAGE, undefined, undefined, { alwaysPull: true }));
    expect(e.reason).toBe('registry_auth');
    expect(images.pulls).toEqual([IMAGE]);
    // The other customer's copy stays (it was not this call's to remove).
    expect(images.present.has(IMAGE)).toBe(true);
    // With its own accepted credentials the slot gets it, asked of the registry, not from the cache.
    const r = await svc.ensure(IMAGE, MINE, undefined, { alwaysPull: true });
    expect(r.cached).toBe(false);
    expect(images.pullAuths).toEqual([undefined, MINE]);
    // A platform deploy of the same image still uses the node's copy.
    expect((await svc.ensure(IMAGE)).cached).toBe(true);
    expect(images.pulls.length).toBe(2);
  });

  it('shares a pull only among callers with the same credentials', async () => {
    const svc = service();
    const release = images.holdPulls();
    const calls = [
      svc.ensure(IMAGE, MINE, undefined, { alwaysPull: true }),
      svc.ensure(IMAGE, MINE, undefined, { alwaysPull: true }),
      svc.ensure(IMAGE, THEIRS, undefined, { alwaysPull: true }),
      svc.ensure(IMAGE, undefined, undefined, { alwaysPull: true }),
    ];
    await new Promise((r) => setTimeout(r, 20));
    release();
    await Promise.all(calls);
    expect(images.pullAuths).toEqual([MINE, THEIRS, undefined]);
    expect(logs.join('\n')).not.toContain(MINE.password);
  });

  it('refuses an image larger than the limit after the pull and removes it again (image_over_limit)', async () => {
    images.pulledSizeBytes = 50 * 1024 * 1024;
    const e = await failure(service().ensure(IMAGE, MINE, undefined, { alwaysPull: true, maxBytes: 20 * 1024 * 1024 }));
    expect(e.reason).toBe('image_over_limit');
    expect(e.message).toBe(`image ${IMAGE} is 50.0 MiB, over the 20.0 MiB size limit for custom images; it was removed from the node`);
    expect(images.removals).toEqual([IMAGE]);
    expect(images.present.size).toBe(0);
  });

  it('stops a pull whose layers alone pass the limit', async () => {
    images.layers = [
      { id: 'big-a', size: 6000 },
      { id: 'big-b', size: 9000 },
    ];
    const e = await failure(service().ensure(IMAGE, undefined, undefined, { alwaysPull: true, maxBytes: 10_000 }));
    expect(e.reason).toBe('image_over_limit');
    expect(e.message).toMatch(/is at least 14\.6 KiB, over the 9\.8 KiB size limit for custom images; the pull was stopped/);
    expect(images.present.size).toBe(0);
  });

  it('an image within the limit runs; one over it that was on the node already is refused but kept', async () => {
    // The layers (compressed) are 10,000 bytes; unpacked, the image is 11,000.
    images.pulledSizeBytes = 11_000;
    expect(await service().ensure(IMAGE, undefined, undefined, { alwaysPull: true, maxBytes: 12_000 })).toMatchObject({ cached: false, sizeBytes: 11_000 });
    const big = 'ghcr.io/someone/big:2.0';
    images.add(big, undefined, 20_000); // another slot's, on the node
    images.pulledSizeBytes = 20_000;
    const e = await failure(service().ensure(big, undefined, undefined, { alwaysPull: true, maxBytes: 12_000 }));
    expect(e.reason).toBe('image_over_limit');
    expect(e.message).not.toMatch(/removed/);
    expect(images.present.has(big)).toBe(true);
    expect(images.removals).toEqual([]);
  });
});
