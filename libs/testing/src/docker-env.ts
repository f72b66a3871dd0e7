import { spawnSync } from 'node:child_process';
import Docker from 'dockerode';

/** Whether a Docker engine answers (DOCKER_HOST or the default socket). */
export async function dockerAvailable(docker: Docker = new Docker()): Promise<boolean> {
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 5000)),
    ]);
    return true;
  } catch {
    return false;
  }
}

/** Synchronous variant for deciding at describe() time. */
export function dockerAvailableSync(): boolean {
  const r = spawnSync(
    process.execPath,
    ['-e', `new (require('dockerode'))().ping().then(()=>process.exit(0),()=>process.exit(1))`],
    { timeout: 10000, cwd: __dirname },
  );
  return r.status === 0;
}

/**
 * describe() for tests that need a Docker engine. Without one: fails loudly when CI=true,
 * skips locally and says so.
 */
export function describeWithDocker(name: string, fn: () => void): void {
  if (dockerAvailableSync()) return describe(name, fn);
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      it('needs a Docker engine', () => {
        throw new Error(
          'Docker is not available (DOCKER_HOST or /var/run/docker.sock) and CI=true: these tests must run',
        );
      });
    });
    return;
  }
  console.warn(`SKIPPED "${name}": no Docker engine reachable (set CI=true to make this a failure)`);
  describe.skip(name, fn);
}

/** Removes every container, network and volume carrying the label (key or key=value). */
export async function removeDockerObjectsByLabel(
  label: string,
  docker: Docker = new Docker(),
): Promise<void> {
  const filters = JSON.stringify({ label: [label] });
  const containers = await docker.listContainers({ all: true, filters });
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true, v: true })
        .catch(() => undefined),
    ),
  );
  const networks = await docker.listNetworks({ filters });
  await Promise.all(
    networks.map((n) =>
      docker
        .getNetwork(n.Id)
        .remove()
        .catch(() => undefined),
    ),
  );
  const volumes = (await docker.listVolumes({ filters })).Volumes ?? [];
  await Promise.all(
    volumes.map((v) =>
      docker
        .getVolume(v.Name)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
}

/**
 * A dockerode client for tests to inspect what the code under test made (dockerode stays out of apps/).
 * Without an argument: DOCKER_HOST or the default socket. `dockerHost` (unix:///path or tcp://host:port)
 * picks another engine, e.g. the second one scripts/docker-engines.sh --second starts.
 */
export function testDocker(dockerHost?: string): Docker {
  if (!dockerHost) return new Docker();
  const url = new URL(dockerHost);
  if (url.protocol === 'unix:') return new Docker({ socketPath: url.pathname });
  return new Docker({ host: url.hostname, port: Number(url.port) || 2375 });
}
export type TestDocker = Docker;
export type TestContainerInfo = Docker.ContainerInfo;
