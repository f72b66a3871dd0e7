import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { createApp, type CoordinatorApp } from '../../apps/coordinator/src/app';
import { createTestDatabase, type TestDatabase } from '../../apps/coordinator/src/database/test-database';
import { NodesService, type NodeView } from '../../apps/coordinator/src/nodes/nodes.service';
import { loadNodeConfig, startNodeAgent, type NodeAgentHandle, type NodeConfig } from '@berth/node-daemon';
import { removeDockerObjectsByLabel } from '@berth/testing';
import { ApiClient, expectStatus } from './http-client';

/**
 * End-to-end stacks for test/: a real coordinator listening on a random port with its own
 * database (PGlite, or a schema of its own when DATABASE_URL is set), and node daemons in this
 * process on the local Docker engine, registered like `npm start` registers its local node.
 */

export const TEST_ADMIN_TOKEN = `admin-${randomBytes(16).toString('hex')}`;

/** Keeps the coordinator's log in memory (printed with BERTH_E2E_VERBOSE=1, and by dumpLogs()). */
export function memoryLogger(lines: string[], prefix = ''): LoggerService {
  const keep =
    (level: string) =>
    (m: unknown, ...rest: unknown[]) => {
      const line = `${prefix}${level} ${[m, ...rest].map((x) => (x instanceof Error ? x.stack : typeof x === 'string' ? x : JSON.stringify(x))).join(' ')}`;
      lines.push(line);
      if (process.env.BERTH_E2E_VERBOSE === '1') process.stderr.write(line + '\n');
    };
  return { log: keep('LOG'), error: keep('ERROR'), warn: keep('WARN'), debug: keep('DEBUG'), verbose: keep('VERBOSE') };
}

export interface TestCoordinator {
  c: CoordinatorApp;
  dataDir: string;
  database: TestDatabase;
  baseUrl: string;
  /** Anonymous client; `.as(token)` for a customer. */
  api: ApiClient;
  admin: ApiClient;
  logs: string[];
  close(): Promise<void>;
}

export async function bootCoordinator(opts: { env?: Record<string, string>; dataDir?: string } = {}): Promise<TestCoordinator> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-e2e-'));
  const logs: string[] = [];
  const database = await createTestDatabase({ pgliteDir: join(dataDir, 'pgdata'), migrateNow: false });
  let c: CoordinatorApp;
  try {
    c = await createApp({
      env: {
        BERTH_DATA_DIR: dataDir,
        BERTH_ADMIN_TOKEN: TEST_ADMIN_TOKEN,
        BERTH_LOCAL_NODE: 'false',
        BERTH_SIGNUP_RATE_LIMIT: '1000',
        LOG_LEVEL: 'log',
        ...opts.env,
      },
      db: database.db,
      logger: memoryLogger(logs),
    });
  } catch (e) {
    await database.drop().catch(() => undefined);
    throw e;
  }
  await c.app.listen(0, '127.0.0.1');
  const { port } = c.app.getHttpServer().address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    c,
    dataDir,
    database,
    baseUrl,
    api: new ApiClient(baseUrl),
    admin: new ApiClient(baseUrl, TEST_ADMIN_TOKEN),
    logs,
    close: async () => {
      await c.close();
      await database.drop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TestNodeOptions {
  /** BERTH_NODE_ID; default a fresh `e2e-<hex>` (every Docker object it makes carries berth.node=<id>). */
  id?: string;
  /** e.g. '31000-31099'; pick one no other suite uses. */
  portRange: string;
  memory?: string;
  cpu?: string;
  /** DOCKER_HOST for a node on another engine. */
  dockerHost?: string;
  env?: Record<string, string>;
}

export interface TestNode {
  id: string;
  config: NodeConfig;
  handle: NodeAgentHandle;
  /** The node's view in the coordinator's admin API. */
  adminView(t: TestCoordinator): Promise<AdminNodeView>;
  /** Stops the daemon (its containers keep running, as in production). */
  stop(): Promise<void>;
  /** Stops it, removes every Docker object it made, and its state dir. */
  destroy(): Promise<void>;
}

export type AdminNodeView = Pick<NodeView, 'id' | 'name' | 'status' | 'reachable' | 'capacity'>;

/** Starts a node daemon in this process and registers it with the coordinator (as local-node.ts does). */
export async function startTestNode(t: TestCoordinator, opts: TestNodeOptions): Promise<TestNode> {
  const id = opts.id ?? `e2e-${randomBytes(4).toString('hex')}`;
  const stateDir = mkdtempSync(join(tmpdir(), 'berth-e2e-node-'));
  const config = loadNodeConfig({
    BERTH_NODE_ID: id,
    BERTH_NODE_LISTEN: '127.0.0.1:0',
    BERTH_NODE_METRICS_LISTEN: '127.0.0.1:0',
    BERTH_NODE_STATE_DIR: stateDir,
    BERTH_NODE_TOKEN: randomBytes(24).toString('hex'),
    BERTH_NODE_PORT_RANGE: opts.portRange,
    BERTH_NODE_ALLOCATABLE_MEMORY: opts.memory ?? '4GiB',
    BERTH_NODE_ALLOCATABLE_CPU: opts.cpu ?? '2',
    BERTH_NODE_LOG_LEVEL: 'warn',
    ...(opts.dockerHost ? { DOCKER_HOST: opts.dockerHost } : {}),
    ...opts.env,
  });
  const handle = await startNodeAgent(config);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await handle.stop();
  };
  try {
    await handle.ready;
    await t.c.app.get(NodesService).registerLocalNode({
      name: handle.nodeId,
      address: handle.grpcAddress,
      token: handle.token,
      fingerprintSha256: handle.fingerprintSha256,
    });
  } catch (e) {
    await stop().catch(() => undefined);
    throw e;
  }
  const adminView = async (tc: TestCoordinator): Promise<AdminNodeView> => {
    const r = expectStatus(await tc.admin.get('/api/admin/nodes'), 200, 'GET /api/admin/nodes');
    const list: AdminNodeView[] = Array.isArray(r.body) ? r.body : r.body.nodes;
    const mine = list.find((n) => n.name === id);
    if (!mine) throw new Error(`node ${id} is not in GET /api/admin/nodes: ${r.text}`);
    return mine;
  };
  return {
    id,
    config,
    handle,
    adminView,
    stop,
    destroy: async () => {
      await stop().catch(() => undefined);
      await removeDockerObjectsByLabel(`berth.node=${id}`);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` returns a value (not undefined/false), polling; throws with the last value seen. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, what: string, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
