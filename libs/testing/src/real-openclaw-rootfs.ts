/**
 * The real OpenClaw image's root filesystem (real-openclaw.ts), staged in a work folder and
 * archived with the owners the official image has: /app (the installed package) and /home/node
 * are node's (1000), everything else root's; Node 24 and the libraries `ldd` lists for it, tini
 * and busybox from the host, the host's CA bundle, /etc/passwd and /etc/group with `node`.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface RootfsInput {
  /** A scratch folder of the build (removed by the caller). */
  work: string;
  /** The installed openclaw package folder (moved into the image as /app). */
  app: string;
  /** The Node 24 binary. */
  node: string;
  tini?: string;
  busybox?: string;
}

/** Stages the root filesystem and archives it as `<work>/context/rootfs.tar`; returns the build context. */
export async function stageRootfs({
  work,
  app,
  node,
  tini,
  busybox,
}: RootfsInput): Promise<{ ctx: string; tar: string }> {
  const root = path.join(work, 'rootfs');
  fs.mkdirSync(root, { mode: 0o755 });
  fs.renameSync(app, path.join(root, 'app'));
  place(node, path.join(root, 'usr', 'local', 'bin', 'node'), 0o755);
  const ldd = (await run('ldd', [node], { timeoutMs: 30_000 })).stdout;
  const libs = [...new Set([...ldd.matchAll(/(\/[^\s)]+)/g)].map((m) => m[1]))].filter((p) =>
    fs.existsSync(p),
  );
  // The loader is found by its path (e.g. /lib64/ld-linux-x86-64.so.2), libraries by name in /lib.
  for (const lib of libs) place(lib, path.join(root, lib), 0o755);
  if (tini) place(tini, path.join(root, 'usr', 'bin', 'tini'), 0o755);
  if (busybox) {
    place(busybox, path.join(root, 'bin', 'busybox'), 0o755);
    fs.symlinkSync('busybox', path.join(root, 'bin', 'sh'));
  }
  place(
    '/etc/ssl/certs/ca-certificates.crt',
    path.join(root, 'etc', 'ssl', 'certs', 'ca-certificates.crt'),
    0o644,
  );
  const etc = (name: string, content: string) =>
    fs.writeFileSync(path.join(root, 'etc', name), content, { mode: 0o644 });
  etc(
    'passwd',
    'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  );
  etc('group', 'root:x:0:\nnode:x:1000:\nnogroup:x:65534:\n');
  etc('nsswitch.conf', 'passwd: files\ngroup: files\nhosts: files dns\n');
  fs.mkdirSync(path.join(root, 'tmp'));
  fs.chmodSync(path.join(root, 'tmp'), 0o1777);
  fs.mkdirSync(path.join(root, 'root'), { mode: 0o700 });
  fs.mkdirSync(path.join(root, 'home', 'node', '.openclaw'), { recursive: true, mode: 0o755 });
  fs.chmodSync(path.join(root, 'home', 'node', '.openclaw'), 0o700);

  const ctx = path.join(work, 'context');
  fs.mkdirSync(ctx);
  const tar = path.join(ctx, 'rootfs.tar');
  const systemDirs = fs.readdirSync(root).filter((d) => d !== 'app' && d !== 'home');
  // Top-level names only (never `./`: ADD would give / the staging dir's mode).
  const tarOpts = ['--numeric-owner', '--sort=name', '--mtime=@0', '-C', root];
  // /home is root's, /home/node and /app node's (the official image chowns /app to node).
  await run(
    'tar',
    [
      '--create',
      '--file',
      tar,
      '--owner=0',
      '--group=0',
      ...tarOpts,
      ...systemDirs,
      '--no-recursion',
      'home',
    ],
    { timeoutMs: 600_000 },
  );
  await run(
    'tar',
    ['--append', '--file', tar, '--owner=1000', '--group=1000', ...tarOpts, 'app', 'home/node'],
    { timeoutMs: 600_000 },
  );
  return { ctx, tar };
}

/** Copies a file's content (following symlinks) to `dest`, making its directory. */
function place(src: string, dest: string, mode: number): void {
  fs.mkdirSync(path.dirname(dest), { recursive: true, mode: 0o755 });
  fs.copyFileSync(fs.realpathSync(src), dest);
  fs.chmodSync(dest, mode);
}

export function run(
  file: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: opts.cwd,
        env: opts.env,
        timeout: opts.timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err) {
          const tail = `${stderr}\n${stdout}`.trim().split('\n').slice(-25).join('\n');
          reject(
            new Error(
              `${file} ${args.join(' ')} failed (${err.killed ? `killed after ${opts.timeoutMs} ms` : `exit ${String(err.code)}`}):\n${tail}`,
            ),
          );
        } else resolve({ stdout, stderr });
      },
    );
  });
}
