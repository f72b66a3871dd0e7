import Docker from 'dockerode';
import { describeWithDocker } from './docker-env';
import { TestRegistry } from './registry';
import { buildStandinImage } from './standin-image';

describeWithDocker('TestRegistry (a real distribution registry with htpasswd auth)', () => {
  const docker = new Docker();
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await TestRegistry.start();
  });
  afterAll(async () => {
    await registry?.destroy();
  });

  it('takes a push, serves its digest, counts one tag resolution per pull, and refuses a wrong password', async () => {
    const local = await buildStandinImage({ tag: 'berth-standin/registry-check:1', ports: [8080] });
    const { ref, digest } = await registry.push(local, 'team/check:1.0', docker);
    expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(await registry.digestOf('team/check', '1.0')).toBe(digest);

    await docker.getImage(ref).remove({ force: true });
    const before = registry.tagResolutions('team/check', '1.0');
    const pull = await docker.pull(ref, { authconfig: registry.auth() });
    await new Promise((resolve, reject) => docker.modem.followProgress(pull, (e: Error | null) => (e ? reject(e) : resolve(null))));
    expect(registry.tagResolutions('team/check', '1.0')).toBe(before + 1);
    expect((await docker.getImage(ref).inspect()).RepoDigests).toContain(`${registry.host}/team/check@${digest}`);

    await docker.getImage(ref).remove({ force: true });
    await expect(
      docker.pull(ref, { authconfig: { ...registry.auth(), password: 'wrong' } }).then(
        (s: NodeJS.ReadableStream) => new Promise((resolve, reject) => docker.modem.followProgress(s, (e: Error | null) => (e ? reject(e) : resolve(null)))),
      ),
    ).rejects.toThrow(/unauthorized|authentication/i);
  });

  it('can be stopped and started again with its images', async () => {
    await registry.stop();
    await expect(fetch(`http://${registry.host}/v2/`)).rejects.toThrow();
    await registry.resume();
    expect(await registry.digestOf('team/check', '1.0')).toMatch(/^sha256:/);
  });
});
