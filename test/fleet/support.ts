/**
 * Helpers for test/fleet.e2e.ts: child processes run from source (so a test can SIGKILL a node
 * daemon or the coordinator), Docker engines, polling, and a small HTTP client.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { testDocker, type TestContainerInfo } from '@berth/testing';
export { freePort, waitFor } from '@berth/testing';

export const ROOT = path.resolve(__dirname, '../..');

/** The default engine and the second one scripts/docker-engines.sh --second starts (a second "host"). */
export const ENGINE_1 = process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
export const ENGINE_2 = process.env.BERTH_TEST_DOCKER_HOST_2 || 'unix:///var/run/berth-docker2.sock';

function engineAnswers(dockerHost: string): boolean {
  const r = spawnSync(process.execPath, ['-e', `new (require('dockerode'))().ping().then(()=>process.exit(0),()=>process.exit(1))`], {
    timeout: 10_000,
    cwd: ROOT,
    env: { ...process.env, DOCKER_HOST: dockerHost },
  });
  return r.status === 0;
}

/**
 * describe() for tests that need every engine in `hosts`. Like describeWithDocker: fails loudly
 * when CI=true and one is missing; skips on a developer's machine and says so.
 */
export function describeWithEngines(name: string, hosts: string[], fn: () => void): void {
  const missing = hosts.filter((h) => !engineAnswers(h));
  if (!missing.length) return describe(name, fn);
  const why = `no Docker engine answers at ${missing.join(', ')} (start them with: bash scripts/docker-engines.sh --second)`;
  if (process.env.CI === 'true' || process.env.CI === '1') {
    describe(name, () => {
      it('needs every Docker engine', () => {
        throw new Error(`${why}; CI=true: these tests must run`);
      });
    });
    return;
  }
  console.warn(`SKIPPED "${name}": ${why} (set CI=true to make this a failure)`);
  describe.skip(name, fn);
}

/** A TypeScript entry point of this repo run in a child process (libs/testing/src/ts-register.js). */
export class TsProcess {
  private proc?: ChildProcess;
  private log = '';

  constructor(
    readonly name: string,
    private readonly entry: string,
    private env: NodeJS.ProcessEnv,
  ) {}

  start(extraEnv: NodeJS.ProcessEnv = {}): this {
    if (this.running) throw new Error(`${this.name} is already running`);
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.env, ...extraEnv };
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    const p = spawn(process.execPath, ['-r', path.join(ROOT, 'libs/testing/src/ts-register.js'), path.join(ROOT, this.entry)], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-20_000);
    };
    p.stdout!.on('data', keep);
    p.stderr!.on('data', keep);
    p.on('exit', (code, signal) => keep(Buffer.from(`[${this.name} exited: ${signal ?? code}]\n`)));
    this.proc = p;
    return this;
  }

  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The last lines it printed (for failure messages). */
  tail(lines = 40): string {
    return `--- ${this.name} ---\n${this.log.split('\n').slice(-lines).join('\n')}`;
  }

  /** Dies without saying goodbye. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || !this.running) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

/** Containers of a slot on one engine (any state), optionally only those of one node. */
export async function slotContainers(dockerHost: string, slotId: string, nodeName?: string): Promise<TestContainerInfo[]> {
  const label = [`berth.slot=${slotId}`, ...(nodeName ? [`berth.node=${nodeName}`] : [])];
  return testDocker(dockerHost).listContainers({ all: true, filters: JSON.stringify({ label }) });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers are checked field by field
export type Body = Record<string, any>;

/** The coordinator's HTTP API as an admin, a customer and a node daemon use it. */
export class Api {
  constructor(
    public base: string,
    private readonly adminToken: string,
  ) {}

  async call(method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; body: Body }> {
    const r = await fetch(`${this.base}${p}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await r.text();
    let json: Body;
    try {
      json = text ? (JSON.parse(text) as Body) : {};
    } catch {
      json = { text };
    }
    return { status: r.status, body: json };
  }

  async admin(method: string, p: string, body?: unknown): Promise<Body> {
    const r = await this.call(method, p, body, this.adminToken);
    if (r.status >= 300) throw new Error(`${method} ${p}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async joinToken(description: string): Promise<string> {
    return (await this.admin('POST', '/api/admin/nodes/join-tokens', { description, ttl_seconds: 600 })).join_token as string;
  }

  async nodes(): Promise<Body[]> {
    return (await this.admin('GET', '/api/admin/nodes')).nodes as Body[];
  }

  async node(id: string): Promise<Body> {
    return this.admin('GET', `/api/admin/nodes/${id}`);
  }

  /** Signs a customer up for Myrai; answers the signup body (customer, slot, deployment, token). */
  async signup(tag: string): Promise<Body> {
    const r = await this.call('POST', '/api/signup', {
      email: `${tag}-${Math.random().toString(36).slice(2, 10)}@example.com`,
      password: 'harbour-lights-42!',
      agent_type_id: 'myrai',
      llm_provider_id: 'anthropic',
      llm_api_key: 'sk-ant-api03-fleetTestKey0123456789abcdefWXYZ',
      config: { model: 'claude-sonnet' },
    });
    if (r.status !== 201) throw new Error(`signup: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async slot(customerToken: string): Promise<Body> {
    const r = await this.call('GET', '/api/slot', undefined, customerToken);
    if (r.status !== 200) throw new Error(`GET /api/slot: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async deployment(customerToken: string, id: string): Promise<Body> {
    const r = await this.call('GET', `/api/deployments/${id}`, undefined, customerToken);
    if (r.status !== 200) throw new Error(`GET /api/deployments/${id}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
}

/** Whether the agent answers its health check on the published port the coordinator reports. */
export async function answersHealth(slot: Body, healthPath: string): Promise<boolean> {
  const url = (slot.urls as { name: string; url: string }[]).find((u) => u.name === 'http')?.url;
  if (!url) return false;
  const r = await fetch(`${url}${healthPath}`, { signal: AbortSignal.timeout(5000) }).catch(() => null);
  return r?.status === 200;
}
