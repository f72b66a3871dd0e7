import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Docker from 'dockerode';
import { pack } from 'tar-stream';

/**
 * Stand-in agent images, built FROM scratch out of files already on this machine (no registry is
 * reachable): the host's node binary and the libraries `ldd` lists, busybox-static (for fork tests),
 * and standin/standin-server.js. See AGENTS.md "Test images".
 *
 * Behaviours (baked as ENV STANDIN_BEHAVIOUR, overridable per container with env):
 *   healthy | slow-start (STANDIN_START_DELAY_MS, default 5000) | crash (exit 3 after STANDIN_CRASH_AFTER_MS)
 *   | never-healthy | memory-hog (allocates until killed) | fork-bomb (spawns processes until refused)
 * Contract (STANDIN_CONTRACT=<agent id>, baked from `contract`): standin/contracts/<id>.js checks
 *   the env, argv and config file the real agent reads; the stand-in stays unhealthy (503 with the
 *   problems, and each problem printed to stdout) while any is found, and listens on the host the
 *   real program would (loopback unless configured otherwise). GET /contract shows the verdict.
 * Endpoints on every port: the health path (health port only), GET /env, GET|PUT /data?file=,
 *   GET /whoami, POST /log?line= (prints a line to stdout), GET /rootfs-write, POST /hog, POST /fork?max=, GET /connect?host=&port=
 */
export type StandinBehaviour =
  'healthy' | 'slow-start' | 'crash' | 'never-healthy' | 'memory-hog' | 'fork-bomb';

export interface StandinImageOptions {
  tag: string;
  ports: number[];
  healthPath?: string;
  healthPort?: number;
  behaviour?: StandinBehaviour;
  /** Where the stand-in reads/writes /data files (the agent's data mount). Default /data. */
  dataDir?: string;
  /** The agent whose contract the stand-in enforces (a file in standin/contracts/). */
  contract?: string;
  /** The image's USER (default 1000:1000), e.g. 'node' to test name resolution. */
  user?: string;
  /** Extra baked ENV. */
  env?: Record<string, string>;
  docker?: Docker;
}

export const STANDIN_LABEL = 'berth.test.standin';

function hostFiles(): string[] {
  const node = fs.realpathSync(process.execPath);
  const out = execFileSync('ldd', [node], { encoding: 'utf8' });
  const libs = [...out.matchAll(/(\/[^\s)]+)/g)].map((m) => m[1]).filter((p) => fs.existsSync(p));
  return [node, ...new Set(libs)];
}

/** Builds (or reuses, when an image with the same content hash exists) a stand-in image. */
export async function buildStandinImage(opts: StandinImageOptions): Promise<string> {
  const docker = opts.docker ?? new Docker();
  const server = fs.readFileSync(path.join(__dirname, 'standin', 'standin-server.js'));
  const contractsDir = path.join(__dirname, 'standin', 'contracts');
  const contracts = fs.existsSync(contractsDir) ? fs.readdirSync(contractsDir).filter((f) => f.endsWith('.js')).sort() : [];
  const contractFiles = contracts.map((f) => ({ name: f, content: fs.readFileSync(path.join(contractsDir, f)) }));
  const files = hostFiles();
  const env: Record<string, string> = {
    STANDIN_PORTS: opts.ports.join(','),
    STANDIN_HEALTH_PATH: opts.healthPath ?? '/health',
    STANDIN_HEALTH_PORT: String(opts.healthPort ?? opts.ports[0]),
    STANDIN_BEHAVIOUR: opts.behaviour ?? 'healthy',
    STANDIN_DATA_DIR: opts.dataDir ?? '/data',
    ...(opts.contract ? { STANDIN_CONTRACT: opts.contract } : {}),
    ...opts.env,
  };
  const busybox = fs.existsSync('/bin/busybox') ? fs.realpathSync('/bin/busybox') : undefined;
  const dockerfile = [
    'FROM scratch',
    // ADD of a tar keeps the owners in it (COPY would make everything root's, including the data dir).
    'ADD rootfs.tar /',
    ...Object.entries(env).map(([k, v]) => `ENV ${k}=${JSON.stringify(v)}`),
    `EXPOSE ${opts.ports.join(' ')}`,
    `USER ${opts.user ?? '1000:1000'}`,
    'ENTRYPOINT ["/usr/local/bin/node", "/standin/server.js"]',
  ].join('\n');

  const hash = createHash('sha256').update(dockerfile).update(server);
  for (const c of contractFiles) hash.update(c.name).update(c.content);
  for (const f of files) {
    const st = fs.statSync(f);
    hash.update(`${f}:${st.size}:${st.mtimeMs}`);
  }
  const digest = hash.digest('hex').slice(0, 16);
  try {
    const info = await docker.getImage(opts.tag).inspect();
    if (info.Config?.Labels?.[STANDIN_LABEL] === digest) return opts.tag;
  } catch {
    /* not built yet */
  }

  const rootfs = pack();
  const rootfsChunks: Buffer[] = [];
  rootfs.on('data', (c: unknown) => void rootfsChunks.push(c as Buffer));
  const rootfsDone = new Promise<void>((resolve) => rootfs.on('end', () => resolve()));
  const add = (t: typeof rootfs, name: string, content: Buffer | string, mode = 0o644) =>
    t.entry({ name, mode, uid: 0, gid: 0 }, content);
  add(rootfs, 'standin/server.js', server);
  for (const c of contractFiles) add(rootfs, `standin/contracts/${c.name}`, c.content);
  // Named users resolve through /etc/passwd, as in a real image (USER node -> 1000).
  add(rootfs, 'etc/passwd', 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000:node:/home/node:/sbin/nologin\n');
  add(rootfs, 'etc/group', 'root:x:0:\nnode:x:1000:\n');
  add(rootfs, 'usr/local/bin/node', fs.readFileSync(files[0]), 0o755);
  // The loader is found by its path (e.g. /lib64/ld-linux-x86-64.so.2), libraries by name in /lib.
  for (const lib of files.slice(1)) add(rootfs, lib.slice(1), fs.readFileSync(fs.realpathSync(lib)), 0o755);
  if (busybox) add(rootfs, 'bin/busybox', fs.readFileSync(busybox), 0o755);
  // Data dir owned by the stand-in user, like a real agent image's state dir (a fresh volume copies it).
  rootfs.entry({
    name: `${env.STANDIN_DATA_DIR.replace(/^\//, '')}/`,
    type: 'directory',
    mode: 0o755,
    uid: 1000,
    gid: 1000,
  });
  rootfs.entry({ name: 'tmp/', type: 'directory', mode: 0o1777, uid: 0, gid: 0 });
  rootfs.finalize();
  await rootfsDone;

  const tar = pack();
  add(tar, 'Dockerfile', `${dockerfile}\nLABEL ${STANDIN_LABEL}=${digest}\n`);
  add(tar, 'rootfs.tar', Buffer.concat(rootfsChunks));
  tar.finalize();

  const stream = await docker.buildImage(tar as unknown as NodeJS.ReadableStream, {
    t: opts.tag,
    rm: true,
    forcerm: true,
    labels: { [STANDIN_LABEL]: digest },
  });
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
      const failed = err ?? out.find((o) => o.error);
      if (failed)
        reject(
          new Error(`stand-in image build failed: ${err?.message ?? (failed as { error: string }).error}`),
        );
      else resolve();
    }),
  );
  return opts.tag;
}
