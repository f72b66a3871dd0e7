/**
 * A real coordinator for the benches: createApp() on its own database (PGlite in memory, or a
 * schema of its own when DATABASE_URL is set), listening on 127.0.0.1:<random>, optionally with an
 * in-process node daemon registered as the local node (startLocalNode), on a node id and a port
 * range of its own so it never touches anyone else's containers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { createApp, type CoordinatorApp } from '../../apps/coordinator/src/app';
import { createTestDatabase, type TestDatabase } from '../../apps/coordinator/src/database/test-database';
import { startLocalNode } from '../../apps/coordinator/src/local-node';
import type { NodeAgentHandle } from '@berth/node-daemon';
import { removeDockerObjectsByLabel } from '@berth/testing';
import { msSince } from './stats';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, read field by field
export type Json = Record<string, any>;

export interface BenchCoordinator {
  c: CoordinatorApp;
  base: string;
  admin: string;
  node?: NodeAgentHandle;
  nodeId?: string;
  request(method: string, p: string, body?: unknown, auth?: string): Promise<{ status: number; body: Json }>;
  close(): Promise<void>;
}

export async function startBenchCoordinator(opts: { withNode: boolean }): Promise<BenchCoordinator> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  const admin = `bench-admin-${randomBytes(16).toString('hex')}`;
  const tdb: TestDatabase = await createTestDatabase();
  const nodeId = opts.withNode ? `bench-${randomBytes(4).toString('hex')}` : undefined;
  const from = 42000 + Math.floor(Math.random() * 40) * 100;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BERTH_DATA_DIR: dir,
    BERTH_ADMIN_TOKEN: admin,
    BERTH_SIGNUP_RATE_LIMIT: '100000',
    BERTH_LOGIN_RATE_LIMIT: '100000',
    LOG_LEVEL: 'error',
    BERTH_LOCAL_NODE: opts.withNode ? 'true' : 'false',
    BERTH_LOCAL_NODE_LISTEN: '127.0.0.1:0',
    BERTH_NODE_ID: nodeId,
    BERTH_NODE_STATE_DIR: path.join(dir, 'node'),
    BERTH_NODE_METRICS_LISTEN: '127.0.0.1:0',
    BERTH_NODE_PORT_RANGE: `${from}-${from + 99}`,
    BERTH_NODE_LOG_LEVEL: 'error',
  };
  delete env.BERTH_MASTER_KEY;
  const quiet = () => undefined;
  const logger = { log: quiet, warn: quiet, debug: quiet, verbose: quiet, error: (m: unknown, ...r: unknown[]) => console.error('[coordinator]', m, ...r) };
  const c = await createApp({ env, db: tdb.db, logger });
  await c.app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${((c.app.getHttpServer() as Server).address() as AddressInfo).port}`;
  const node = opts.withNode ? ((await startLocalNode(c, env)) ?? undefined) : undefined;

  const request = async (method: string, p: string, body?: unknown, auth?: string) => {
    const r = await fetch(`${base}${p}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    return { status: r.status, body: (text ? JSON.parse(text) : {}) as Json };
  };

  return {
    c,
    base,
    admin,
    node,
    nodeId,
    request,
    async close() {
      await c.close().catch(() => undefined);
      await node?.stop().catch(() => undefined);
      // Only what this daemon made (every object carries berth.node=<its id>).
      if (nodeId) await removeDockerObjectsByLabel(`berth.node=${nodeId}`).catch(() => undefined);
      await tdb.drop().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ObservedEvent {
  type: string;
  /** The coordinator's timestamp of the event (ms since the epoch). */
  atMs: number;
  /** When this client received it, in ms since `t0`. */
  receivedMs: number;
  message: string;
}

const FINISHED = new Set(['succeeded', 'failed', 'rolled_back']);

/** Follows GET /api/deployments/:id/events (server-sent events) until the deployment's final event. */
export async function followDeployment(base: string, id: string, token: string, t0: bigint, timeoutMs = 120_000): Promise<ObservedEvent[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  const out: ObservedEvent[] = [];
  try {
    const res = await fetch(`${base}/api/deployments/${id}/events`, {
      headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
      signal: ac.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`events of ${id}: HTTP ${res.status} ${await res.text()}`);
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let cut: number;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const data = block
          .split('\n')
          .filter((l) => l.startsWith('data:'))
          .map((l) => l.slice(5).trim())
          .join('\n');
        if (!data) continue;
        const e = JSON.parse(data) as { type: string; at: string; message: string };
        out.push({ type: e.type, atMs: Date.parse(e.at), receivedMs: msSince(t0), message: e.message });
        if (FINISHED.has(e.type)) return out;
      }
    }
    return out;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}
