import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Docker from 'dockerode';
import { freePort, waitFor } from './wait';

/**
 * A real image registry for tests: Debian's `docker-registry` (the CNCF distribution registry)
 * on 127.0.0.1, with htpasswd auth (bcrypt lines made by `htpasswd` from apache2-utils) and its
 * storage in a temporary folder. Docker talks plain HTTP to registries on 127.0.0.0/8, so engines
 * pull from it without any setup. `.ci/run` (scripts/test-all.sh) installs both packages.
 *
 * It can be stopped and started again on the same port and storage (the "registry unreachable"
 * case), and reads its own access log to count pulls (tagResolutions).
 */
export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export interface TestRegistryOptions {
  /** user -> password; empty means no auth at all. Default: one user, `berth` / `berth-secret`. */
  users?: Record<string, string>;
}

export interface RegistryAuthConfig {
  username: string;
  password: string;
  serveraddress: string;
}

export class TestRegistry {
  private proc?: ChildProcess;
  private exited?: Promise<void>;

  private constructor(
    readonly dir: string,
    readonly port: number,
    readonly users: Record<string, string>,
  ) {}

  /** host:port, as it appears in image references (`127.0.0.1:41234/team/agent:1.0`). */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  get logFile(): string {
    return path.join(this.dir, 'registry.log');
  }

  /** The first user's credentials, as dockerode's `authconfig` wants them. */
  auth(username = Object.keys(this.users)[0]): RegistryAuthConfig {
    return { username, password: this.users[username], serveraddress: this.host };
  }

  static available(): boolean {
    return fs.existsSync(REGISTRY_BINARY) && spawnSync('htpasswd', ['-v'], { stdio: 'ignore' }).error === undefined;
  }

  static async start(opts: TestRegistryOptions = {}): Promise<TestRegistry> {
    if (!TestRegistry.available())
      throw new Error(`${REGISTRY_BINARY} or htpasswd missing: apt-get install -y docker-registry apache2-utils`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-registry-'));
    const users = opts.users ?? { berth: 'berth-secret' };
    const r = new TestRegistry(dir, await freePort(), users);
    r.writeConfig();
    await r.resume();
    return r;
  }

  private writeConfig(): void {
    const auth = Object.keys(this.users).length
      ? `auth:\n  htpasswd:\n    realm: berth-test\n    path: ${path.join(this.dir, 'htpasswd')}\n`
      : '';
    const lines = Object.entries(this.users).map(([u, p]) => {
      const r = spawnSync('htpasswd', ['-nbB', u, p], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
      return r.stdout.trim();
    });
    fs.writeFileSync(path.join(this.dir, 'htpasswd'), `${lines.join('\n')}\n`);
    fs.writeFileSync(
      path.join(this.dir, 'config.yml'),
      `version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: false\n` +
        `storage:\n  filesystem:\n    rootdirectory: ${path.join(this.dir, 'data')}\n  delete:\n    enabled: true\n` +
        `http:\n  addr: ${this.host}\n${auth}`,
    );
  }

  /** Starts the registry process (again, after stop(): same port, same images). */
  async resume(): Promise<void> {
    if (this.proc) return;
    const log = fs.openSync(this.logFile, 'a');
    const proc = spawn(REGISTRY_BINARY, ['serve', path.join(this.dir, 'config.yml')], { stdio: ['ignore', log, log] });
    fs.closeSync(log);
    this.proc = proc;
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    await waitFor(
      async () => {
        if (proc.exitCode !== null) throw new Error(`registry exited with ${proc.exitCode}`);
        const res = await fetch(`http://${this.host}/v2/`);
        return res.status === 200 || res.status === 401;
      },
      15_000,
      `the registry on ${this.host}`,
      () => fs.readFileSync(this.logFile, 'utf8').slice(-2000),
    );
  }

  /** Stops the process; pulls then find nothing listening on the port. */
  async stop(): Promise<void> {
    if (!this.proc) return;
    this.proc.kill('SIGTERM');
    await this.exited;
    this.proc = undefined;
  }

  /** Stops it and removes its storage. */
  async destroy(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /**
   * Tags a local image as `<host>/<repoTag>` and pushes it; returns the pushed reference and the
   * manifest digest the registry reported.
   */
  async push(localImage: string, repoTag: string, docker: Docker = new Docker()): Promise<{ ref: string; digest: string }> {
    const [repo, tag] = repoTag.split(':');
    const ref = `${this.host}/${repo}:${tag}`;
    await docker.getImage(localImage).tag({ repo: `${this.host}/${repo}`, tag });
    const stream = await docker.getImage(ref).push({ authconfig: this.auth() });
    type PushEvent = { aux?: { Digest?: string }; error?: string };
    const events = await new Promise<PushEvent[]>((resolve, reject) =>
      docker.modem.followProgress(stream, (err: Error | null, out: PushEvent[]) => (err ? reject(err) : resolve(out))),
    );
    const failed = events.find((e) => e.error);
    if (failed) throw new Error(`push of ${ref} failed: ${failed.error}`);
    const digest = events.find((e) => e.aux?.Digest)?.aux?.Digest;
    if (!digest) throw new Error(`push of ${ref} reported no digest`);
    return { ref, digest };
  }

  /** The digest the registry serves for repo:tag right now (what `docker pull` would get). */
  async digestOf(repo: string, tag: string): Promise<string> {
    const headers: Record<string, string> = {
      Accept: [
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.docker.distribution.manifest.v2+json',
      ].join(', '),
    };
    const [user] = Object.keys(this.users);
    if (user) headers.Authorization = `Basic ${Buffer.from(`${user}:${this.users[user]}`).toString('base64')}`;
    const res = await fetch(`http://${this.host}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers });
    const digest = res.headers.get('docker-content-digest');
    if (!res.ok || !digest) throw new Error(`no manifest for ${repo}:${tag} (HTTP ${res.status})`);
    return digest;
  }

  /**
   * How many times the tag was resolved: successful manifest requests (HEAD, or GET where HEAD is
   * not used) naming `repo:tag` in the access log. Every pull by tag resolves it exactly once;
   * fetching the manifest by digest afterwards is skipped when the engine has it, so counting
   * GETs alone misses pulls.
   */
  tagResolutions(repo: string, tag: string): number {
    const log = fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8') : '';
    const esc = (v: string) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp(`"(?:HEAD|GET) /v2/${esc(repo)}/manifests/${esc(tag)} HTTP/[0-9.]+" 200 `, 'g');
    return [...log.matchAll(re)].length;
  }
}
