import { InvalidArgumentError } from '@berth/domain';
import { createLogger } from '../logger';
import { NodeMetrics } from '../metrics/node-metrics';
import { PullFailureKind } from '../runtime/container-runtime';
import { FakeImages, fakeDigestRef } from '../runtime/fake-images';
import { ImageFailureReason, ImagePullError } from './image-errors';
import { ImageService, ImageServiceOptions } from './image.service';
import { PullProgress } from './pull-progress';

/** The image service's rules against FakeImages: no Docker, no registry. */
describe('ImageService (FakeImages)', () => {
  const IMAGE = '127.0.0.1:5000/team/agent:1.2';
  const AUTH = { server: '127.0.0.1:5000', username: 'berth', password: 'pw-s3cret-never-shown' };
  let images: FakeImages;
  let metrics: NodeMetrics;
  let logs: string[];

  const service = (over: Partial<ImageServiceOptions> = {}) =>
    new ImageService(
      images,
      metrics,
      { budgetBytes: 1024 ** 3, retryWindowMs: 2000, stallMs: 0, backoffMs: 5, maxBackoffMs: 20, ...over },
      createLogger('debug', 'unit', (l) => logs.push(l)),
    );
  const pullsBy = async (result: string) =>
    (await metrics.imagePulls.get()).values.find((v) => v.labels.result === result)?.value ?? 0;
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => {
        throw new Error('expected the pull to fail');
      },
      (e: unknown) => {
        if (!(e instanceof ImagePullError)) throw e;
        return e;
      },
    );

  beforeEach(() => {
    images = new FakeImages();
    metrics = new NodeMetrics();
    logs = [];
  });

  it('uses an image already on the node under a pinned tag or digest, with no pull', async () => {
    images.add(IMAGE);
    const byDigest = `127.0.0.1:5000/team/agent@sha256:${'a'.repeat(64)}`;
    images.add(`127.0.0.1:5000/team/agent@sha256:${'a'.repeat(64)}`);
    const svc = service();
    const seen: PullProgress[] = [];
    const r = await svc.ensure(IMAGE, AUTH, (p) => seen.push(p));
    expect(r).toMatchObject({ image: IMAGE, cached: true, digest: fakeDigestRef(IMAGE) });
    expect((await svc.ensure(byDigest)).cached).toBe(true);
    expect(images.pulls).toEqual([]);
    expect(seen).toEqual([]);
    expect(await pullsBy('ok')).toBe(0);
  });

  it('refuses :latest and untagged references before asking the engine anything', async () => {
    const svc = service();
    await expect(svc.ensure('team/agent:latest')).rejects.toThrow(InvalidArgumentError);
    await expect(svc.ensure('team/agent')).rejects.toThrow(/must pin a tag or a digest/);
    await expect(svc.ensure('Not An Image!')).rejects.toThrow(InvalidArgumentError);
    expect(images.pulls).toEqual([]);
  });

  it('pulls an image the node lacks and returns the digest of its repository', async () => {
    const seen: PullProgress[] = [];
    const r = await service().ensure(IMAGE, AUTH, (p) => seen.push(p));
    expect(r).toMatchObject({ cached: false, digest: fakeDigestRef(IMAGE) });
    expect(r.digest).toMatch(/^127\.0\.0\.1:5000\/team\/agent@sha256:[a-f0-9]{64}$/);
    expect(images.pulls).toEqual([IMAGE]);
    expect(images.pullAuths).toEqual([AUTH]);
    expect(seen[0]).toEqual({ layersDone: 0, layersTotal: 0, bytesDone: 0, bytesTotal: 0 });
    expect(seen[seen.length - 1]).toEqual({ layersDone: 2, layersTotal: 2, bytesDone: 10000, bytesTotal: 10000 });
    expect(await pullsBy('ok')).toBe(1);
    expect(logs.join('\n')).not.toContain(AUTH.password);
  });

  it('shares one pull among concurrent callers of one image, however it is spelled', async () => {
    const svc = service();
    const release = images.holdPulls();
    const seen: PullProgress[][] = [[], [], [], [], []];
    const calls = ['alpine:3.19', 'docker.io/library/alpine:3.19', 'library/alpine:3.19', 'alpine:3.19', 'alpine:3.19'].map(
      (ref, i) => svc.ensure(ref, undefined, (p) => seen[i].push(p)),
    );
    await new Promise((r) => setTimeout(r, 20));
    // A caller joining late gets where the pull is at once.
    const late: PullProgress[] = [];
    const lateCall = svc.ensure('alpine:3.19', undefined, (p) => late.push(p));
    expect(late.length).toBe(1);
    release();
    const results = await Promise.all([...calls, lateCall]);
    expect(images.pulls).toEqual(['docker.io/library/alpine:3.19']);
    expect(new Set(results.map((r) => r.digest)).size).toBe(1);
    expect(results.every((r) => !r.cached)).toBe(true);
    for (const s of seen) expect(s[s.length - 1]).toMatchObject({ layersDone: 2, layersTotal: 2 });
    // Once it is on the node, the next caller finds it cached.
    expect((await svc.ensure('alpine:3.19')).cached).toBe(true);
    expect(images.pulls.length).toBe(1);
  });

  it.each<[PullFailureKind, ImageFailureReason, RegExp]>([
    ['not_found', 'image_not_found', /image 127\.0\.0\.1:5000\/team\/agent:1\.2 not found/],
    ['unauthorized', 'registry_auth', /registry 127\.0\.0\.1:5000 refused the credentials/],
    ['unreachable', 'registry_unreachable', /registry 127\.0\.0\.1:5000 is unreachable/],
    ['failed', 'image_pull', /pulling 127\.0\.0\.1:5000\/team\/agent:1\.2 failed/],
  ])('a permanent failure (%s) fails at once as %s, with a readable message', async (kind, reason, message) => {
    images.failNextPull(kind, `engine says no (${AUTH.password})`);
    const e = await failure(service().ensure(IMAGE, AUTH));
    expect(e.reason).toBe(reason);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain(AUTH.password);
    expect(logs.join('\n')).not.toContain(AUTH.password);
    expect(images.pulls.length).toBe(1);
    expect(await pullsBy(reason)).toBe(1);
  });

  it('says when a registry wants credentials and none were sent', async () => {
    images.failNextPull('unauthorized', 'no basic auth credentials');
    const e = await failure(service().ensure(IMAGE));
    expect(e.reason).toBe('registry_auth');
    expect(e.message).toMatch(/wants credentials for .* and none are configured/);
  });

  it('never hands credentials to another registry', async () => {
    await service().ensure('ghcr.io/team/agent:1.0', AUTH);
    expect(images.pullAuths).toEqual([undefined]);
    await service().ensure('team/agent:2.0', { ...AUTH, server: 'https://index.docker.io/v1/' });
    expect(images.pullAuths[1]).toMatchObject({ server: 'https://index.docker.io/v1/' });
  });

  it('retries transient failures with backoff and succeeds within the window', async () => {
    images.failNextPull('transient', 'read: connection reset by peer');
    images.failNextPull('transient', 'received unexpected HTTP status: 503 Service Unavailable');
    const r = await service().ensure(IMAGE);
    expect(r.cached).toBe(false);
    expect(images.pulls.length).toBe(3);
    expect(await pullsBy('ok')).toBe(1);
    expect(logs.filter((l) => l.includes('retrying')).length).toBe(2);
  });

  it('gives up on transient failures after the retry window, as registry unreachable', async () => {
    for (let i = 0; i < 50; i++) images.failNextPull('transient', 'dial tcp 10.0.0.1:443: i/o timeout');
    const started = Date.now();
    const e = await failure(service({ retryWindowMs: 120, backoffMs: 20, maxBackoffMs: 40 }).ensure(IMAGE));
    expect(Date.now() - started).toBeLessThan(1000);
    expect(e.reason).toBe('registry_unreachable');
    expect(e.message).toMatch(/kept failing .* \(\d+ attempts in \d+ s\): dial tcp 10\.0\.0\.1:443: i\/o timeout/);
    expect(images.pulls.length).toBeGreaterThanOrEqual(3);
    expect(images.pulls.length).toBeLessThanOrEqual(6);
  });

  it('cuts off a pull that stops making progress, and retries it', async () => {
    const release = images.holdPulls();
    const svc = service({ stallMs: 40, retryWindowMs: 60, backoffMs: 10 });
    const started = Date.now();
    const e = await failure(svc.ensure(IMAGE));
    release();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(e.reason).toBe('registry_unreachable');
    expect(e.message).toMatch(/no pull progress for 0\.04 s/);
    expect(images.pulls.length).toBeGreaterThanOrEqual(2);
    expect(images.present.size).toBe(0);
  });

  it('stops a pull whose layers outgrow what is left of the image budget', async () => {
    images.diskUsedBytes = 2000;
    const seen: PullProgress[] = [];
    const e = await failure(service({ budgetBytes: 10000 }).ensure(IMAGE, undefined, (p) => seen.push(p)));
    expect(e.reason).toBe('image_too_large');
    expect(e.message).toMatch(/at least 9\.8 KiB, 7\.8 KiB of 9\.8 KiB is left \(BERTH_NODE_IMAGE_BUDGET\)/);
    expect(images.present.size).toBe(0);
    expect(seen.every((p) => p.bytesTotal <= 8000)).toBe(true);
    expect(await pullsBy('image_too_large')).toBe(1);
    // Layers already on the node add nothing: the same image then fits.
    images.presentLayers.add('layer-b');
    expect((await service({ budgetBytes: 10000 }).ensure(IMAGE)).cached).toBe(false);
  });

  it('reports the engine not answering as a pull failure, and keeps the image bytes gauge', async () => {
    images.inspectError = new Error('connect ENOENT /var/run/docker.sock');
    const e = await failure(service().ensure(IMAGE));
    expect(e).toMatchObject({ reason: 'image_pull' });
    expect(e.message).toMatch(/could not inspect it: connect ENOENT/);
    images.inspectError = undefined;
    images.diskUsedBytes = 12345;
    await service().ensure(IMAGE);
    expect((await metrics.imageBytes.get()).values[0].value).toBe(12345);
  });
});
