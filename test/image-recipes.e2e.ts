/**
 * `npm run images` (scripts/images/), run as an operator runs it, against real Docker and a real
 * registry. No PyPI or public registry is reachable here, so the recipe is built on a stand-in
 * base (test/fixtures/python-standin: busybox-static and a `pip` that writes a stand-in `nanobot`
 * instead of downloading nanobot-ai). What this proves: the recipe's build arguments, user,
 * labels, port and command, and the CLI's build, push and digest; not that nanobot-ai installs.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, cpSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import {
  TestRegistry,
  describeWithDocker,
  removeDockerObjectsByLabel,
  testDocker,
  waitFor,
} from '@berth/testing';
import { buildFolder } from '../scripts/images/build';

const ROOT = path.resolve(__dirname, '..');
const LABEL = 'berth.test.image-recipes';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** `npm run images -- <args>` from the repository root, without the caller's registry credentials. */
function images(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { BERTH_REGISTRY_USERNAME: _u, BERTH_REGISTRY_PASSWORD: _p, ...inherited } = process.env;
  return new Promise((resolve) =>
    execFile(
      'npm',
      ['run', 'images', '--', ...args],
      { cwd: ROOT, env: { ...inherited, ...env }, timeout: 110_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    ),
  );
}

/** The line of `out` that starts with `prefix`, without the prefix. */
function line(out: string, prefix: string): string | undefined {
  return out
    .split('\n')
    .find((l) => l.startsWith(prefix))
    ?.slice(prefix.length);
}

describeWithDocker(
  'npm run images: an agent image recipe built on a stand-in Python base, pushed to a real registry',
  () => {
    const docker = testDocker();
    const run = `${process.pid}`;
    const base = `berth-test/python-standin:${run}`;
    const tag = `e2e-${run}`;
    const built = `berth/nanobot:${tag}`;
    let registry: TestRegistry;
    let context: string;

    beforeAll(async () => {
      registry = await TestRegistry.start();
      context = mkdtempSync(path.join(tmpdir(), 'berth-python-standin-'));
      cpSync(path.join(__dirname, 'fixtures', 'python-standin'), context, { recursive: true });
      copyFileSync(realpathSync('/bin/busybox'), path.join(context, 'busybox'));
      const log: string[] = [];
      const sink = new Writable({ write: (chunk, _enc, done) => void (log.push(String(chunk)), done()) });
      await buildFolder(docker, context, { tag: base }, sink).catch((e: Error) => {
        throw new Error(`stand-in base build failed: ${e.message}\n${log.join('')}`);
      });
    });

    afterAll(async () => {
      await removeDockerObjectsByLabel(`${LABEL}=${run}`, docker);
      for (const ref of [built, `${registry?.host}/berth/nanobot:${tag}`, base])
        await docker
          .getImage(ref)
          .remove({ force: true })
          .catch(() => undefined);
      await registry?.destroy();
      if (context) rmSync(context, { recursive: true, force: true });
    });

    it('lists the agents that have a recipe with their version, default tag and pinned base', async () => {
      const r = await images(['list']);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(
        /^nanobot +0\.3\.0 +berth\/nanobot:0\.3\.0 +FROM python:3\.12\.\d+-slim-bookworm$/m,
      );
      expect(r.stdout).not.toMatch(/^(myrai|openclaw|zeptoclaw|picoclaw|custom) /m);
    });

    it('refuses bad arguments with exit code 2 and a message naming the argument', async () => {
      const cases: [string[], Record<string, string>, RegExp][] = [
        [
          ['build', 'myrai'],
          {},
          /agent 'myrai' has no image recipe \(templates\/agents\/myrai\/image\/Dockerfile\).*Agents with a recipe: nanobot/,
        ],
        [['build', 'nobody'], {}, /unknown agent 'nobody'/],
        [['build', 'nanobot', '--pussh', 'x'], {}, /Unknown option '--pussh'/],
        [
          ['build', 'nanobot', '--push', 'berth/nanobot'],
          {},
          /--push 'berth\/nanobot': start with the registry host/,
        ],
        [
          ['build', 'nanobot', '--push', '127.0.0.1:5000/berth/nanobot:1'],
          {},
          /--push '127\.0\.0\.1:5000\/berth\/nanobot:1': give the repository without a tag/,
        ],
        [['build', 'nanobot', '--tag', 'latest'], {}, /--tag 'latest'/],
        [
          ['build', 'nanobot', '--base-image', 'python'],
          {},
          /--base-image 'python' must pin a tag or a digest/,
        ],
        [
          ['build', 'nanobot', '--push', '127.0.0.1:5000/berth/nanobot'],
          { BERTH_REGISTRY_USERNAME: 'berth' },
          /BERTH_REGISTRY_PASSWORD is not set/,
        ],
        [['frobnicate'], {}, /unknown command 'frobnicate'/],
      ];
      const results = await Promise.all(cases.map(([args, env]) => images(args, env)));
      results.forEach((r, i) => {
        expect({ args: cases[i][0], code: r.code }).toEqual({ args: cases[i][0], code: 2 });
        expect(r.stderr).toMatch(cases[i][2]);
      });
    });

    it('builds the recipe: the pinned version reaches pip, the image carries its labels and runs the gateway as 1000', async () => {
      const r = await images(['build', 'nanobot', '--tag', tag, '--base-image', base]);
      expect(r).toMatchObject({ code: 0 });
      // The engine's build output streamed through, the stand-in pip's line included.
      expect(r.stderr).toContain(
        `building ${built} from templates/agents/nanobot/image (FROM ${base}, VERSION=0.3.0)`,
      );
      expect(r.stderr).toMatch(/Step \d+\/\d+ : RUN pip install/);
      expect(r.stderr).toContain('stand-in pip: installing nanobot-ai==0.3.0');
      const info = await docker.getImage(built).inspect();
      expect(line(r.stdout, 'image id: ')).toBe(info.Id);
      expect(line(r.stdout, `PATCH /api/admin/agent-types/nanobot `)).toBe(
        JSON.stringify({ base_image: built }),
      );
      expect(info.Config.User).toBe('1000:1000');
      expect(info.Config.Labels).toMatchObject({
        'org.opencontainers.image.version': '0.3.0',
        'org.opencontainers.image.source': 'https://github.com/HKUDS/nanobot',
        'org.opencontainers.image.base.name': base,
      });
      expect(Object.keys(info.Config.ExposedPorts ?? {})).toEqual(['18790/tcp']);
      expect([info.Config.Entrypoint, info.Config.Cmd]).toEqual([['nanobot'], ['gateway']]);

      // Run it as the platform does: hardened, a fresh volume at the manifest's data_dir.
      const volume = await docker.createVolume({
        Name: `berth-test-image-recipes-${run}`,
        Labels: { [LABEL]: run },
      });
      const container = await docker.createContainer({
        Image: built,
        Labels: { [LABEL]: run },
        ExposedPorts: { '18790/tcp': {} },
        HostConfig: {
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          Mounts: [{ Type: 'volume', Source: volume.name, Target: '/home/nanobot/.nanobot' }],
          PortBindings: { '18790/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] },
        },
      });
      await container.start();
      const port = (await container.inspect()).NetworkSettings.Ports['18790/tcp']?.[0]?.HostPort;
      const url = `http://127.0.0.1:${port}`;
      const health = await waitFor(async () => (await fetch(`${url}/health`)).ok, 15_000, `${url}/health`);
      expect(health).toBe(true);
      // The gateway's own report: it runs as the recipe's user, HOME holds the data dir, and pip got the pinned version.
      expect((await (await fetch(`${url}/whoami`)).text()).trim()).toBe(
        'uid=1000 gid=1000 home=/home/nanobot requirement=nanobot-ai==0.3.0',
      );
    });

    it('pushes to a registry with credentials from the environment and prints the digest the registry serves', async () => {
      const repository = `${registry.host}/berth/nanobot`;
      const { username, password } = registry.auth();
      const r = await images(['build', 'nanobot', '--tag', tag, '--base-image', base, '--push', repository], {
        BERTH_REGISTRY_USERNAME: username,
        BERTH_REGISTRY_PASSWORD: password,
      });
      expect(r).toMatchObject({ code: 0 });
      const digest = await registry.digestOf('berth/nanobot', tag);
      expect(line(r.stdout, 'digest: ')).toBe(`${repository}@${digest}`);
      expect(line(r.stdout, 'PATCH /api/admin/agent-types/nanobot ')).toBe(
        JSON.stringify({ base_image: `${repository}@${digest}` }),
      );
      expect(`${r.stdout}${r.stderr}`).not.toContain(password);
    });

    it('a refused password fails the push with exit code 1 and a readable reason, and is never printed', async () => {
      const password = `wrong-${run}-password`;
      const r = await images(
        ['build', 'nanobot', '--tag', tag, '--base-image', base, '--push', `${registry.host}/berth/nanobot`],
        {
          BERTH_REGISTRY_USERNAME: registry.auth().username,
          BERTH_REGISTRY_PASSWORD: password,
        },
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /push of .*berth\/nanobot:e2e-\d+ failed: .*check BERTH_REGISTRY_USERNAME \/ BERTH_REGISTRY_PASSWORD/,
      );
      expect(r.stdout).not.toMatch(/^digest: /m);
      expect(`${r.stdout}${r.stderr}`).not.toContain(password);
    });
  },
);
