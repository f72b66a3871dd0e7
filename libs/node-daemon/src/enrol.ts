import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tls from 'node:tls';
import { z } from 'zod';
import { loadConfig } from '@berth/config';
import type { NodeConfig } from './config';
import { loadOrCreateTls } from './grpc/tls';

/**
 * The daemon's side of enrolment (docs/fleet.md): it presents its certificate, the coordinator
 * checks it against the fingerprint sent here, and answers the node token the daemon must then
 * require from callers. The token is written to <state dir>/token (mode 0600), where
 * startNodeAgent reads it when BERTH_NODE_TOKEN is not set.
 */
export interface EnrolOptions {
  /** Base URL of the coordinator, e.g. https://berth.example.com */
  coordinatorUrl: string;
  joinToken: string;
  /** The node's name at the coordinator (BERTH_NODE_ID). */
  name: string;
  /** host:port at which the coordinator reaches this daemon's gRPC endpoint. */
  address: string;
  /** SHA-256 fingerprint of this daemon's TLS certificate. */
  fingerprint: string;
  allocatableMemoryMb?: number;
  allocatableCpuMillis?: number;
  portRange?: { from: number; to: number };
  agentVersion?: string;
  fetchImpl?: typeof fetch;
  timeoutMs?: number;
}

export class EnrolmentError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'EnrolmentError';
  }
}

/** POST /api/nodes/enrol. Resolves { nodeId, nodeToken }; an EnrolmentError carries the coordinator's reason. */
export async function enrolWithCoordinator(o: EnrolOptions): Promise<{ nodeId: string; nodeToken: string }> {
  const url = new URL('/api/nodes/enrol', o.coordinatorUrl).toString();
  const body: Record<string, unknown> = {
    join_token: o.joinToken,
    name: o.name,
    address: o.address,
    tls_fingerprint_sha256: o.fingerprint,
  };
  if (o.allocatableMemoryMb !== undefined) body.allocatable_memory_mb = o.allocatableMemoryMb;
  if (o.allocatableCpuMillis !== undefined) body.allocatable_cpu_millis = o.allocatableCpuMillis;
  if (o.portRange) body.port_range = o.portRange;
  if (o.agentVersion) body.agent_version = o.agentVersion;
  let res: Response;
  try {
    res = await (o.fetchImpl ?? fetch)(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(o.timeoutMs ?? 30_000),
    });
  } catch (e) {
    throw new EnrolmentError(`cannot reach the coordinator at ${url}: ${(e as Error).message}`);
  }
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    // not JSON: reported below by status
  }
  if (!res.ok) {
    const fields = json.fields ? ` ${JSON.stringify(json.fields)}` : '';
    throw new EnrolmentError(
      `enrolment refused (HTTP ${res.status}): ${typeof json.error === 'string' ? json.error : text.slice(0, 200)}${fields}`,
      res.status,
    );
  }
  if (
    typeof json.node_id !== 'string' ||
    typeof json.node_token !== 'string' ||
    json.node_token.length < 16
  ) {
    throw new EnrolmentError(
      `the coordinator answered HTTP ${res.status} without node_id and node_token`,
      res.status,
    );
  }
  return { nodeId: json.node_id, nodeToken: json.node_token };
}

export function tokenFile(stateDir: string): string {
  return path.join(stateDir, 'token');
}

/** Whether this daemon already holds a node token (from an earlier enrolment or start). */
export function hasStoredToken(stateDir: string): boolean {
  try {
    return fs.readFileSync(tokenFile(stateDir), 'utf8').trim().length >= 16;
  } catch {
    return false;
  }
}

export function storeToken(stateDir: string, token: string): void {
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const file = tokenFile(stateDir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, token + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}

export interface EnrolOnBootOptions {
  coordinatorUrl: string;
  joinToken: string;
  name: string;
  stateDir: string;
  /** host:port to listen on while enrolling (BERTH_NODE_LISTEN): the daemon's gRPC address. */
  listen: string;
  /** host:port the coordinator should use; defaults to `listen` (not useful when listening on 0.0.0.0). */
  advertise?: string;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  allocatableMemoryMb?: number;
  allocatableCpuMillis?: number;
  portRange?: { from: number; to: number };
  agentVersion?: string;
  fetchImpl?: typeof fetch;
}

/**
 * For the daemon's main when BERTH_COORDINATOR_URL and BERTH_JOIN_TOKEN are set and no token is
 * stored yet: listens with the daemon's own certificate on its gRPC address just long enough for
 * the coordinator to read the certificate, enrols, and stores the node token. Call it before
 * startNodeAgent (which then picks the token up from the state dir). Returns the node id, or
 * undefined when a token is already stored (nothing to do).
 */
export async function enrolOnBoot(o: EnrolOnBootOptions): Promise<string | undefined> {
  if (hasStoredToken(o.stateDir)) return undefined;
  const material = await loadOrCreateTls(o.stateDir, o.name, o.tlsCertPath, o.tlsKeyPath);
  const [host, port] = splitHostPort(o.listen);
  const server = tls.createServer(
    { cert: material.certPem, key: material.keyPem, ALPNProtocols: ['h2'] },
    (socket) => socket.destroy(),
  );
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  try {
    const bound = (server.address() as { port: number }).port;
    const advertise = o.advertise ?? `${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${bound}`;
    const r = await enrolWithCoordinator({
      coordinatorUrl: o.coordinatorUrl,
      joinToken: o.joinToken,
      name: o.name,
      address: advertise,
      fingerprint: material.fingerprintSha256,
      allocatableMemoryMb: o.allocatableMemoryMb,
      allocatableCpuMillis: o.allocatableCpuMillis,
      portRange: o.portRange,
      agentVersion: o.agentVersion,
      fetchImpl: o.fetchImpl,
    });
    storeToken(o.stateDir, r.nodeToken);
    return r.nodeId;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function splitHostPort(address: string): [string, number] {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!m) throw new Error(`address must be host:port, got ${address}`);
  return [m[1], Number(m[2])];
}

/** The variables that turn enrolment on, checked like the rest of the daemon's config. */
export const enrolConfigSchema = z.object({
  BERTH_COORDINATOR_URL: z.url({ protocol: /^https?$/, error: 'must be the http(s) URL of the coordinator' }).optional(),
  BERTH_JOIN_TOKEN: z.string().min(8, 'must be the join token an admin created').optional(),
  /** host:port the coordinator reaches this daemon at, when it is not BERTH_NODE_LISTEN (e.g. listening on 0.0.0.0). */
  BERTH_NODE_ADVERTISE_ADDRESS: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[\w.-]+):\d{1,5}$/, 'must be host:port, e.g. 10.0.0.5:7443')
    .optional(),
});

/**
 * For main.ts, before startNodeAgent: when BERTH_COORDINATOR_URL and BERTH_JOIN_TOKEN are set, no
 * BERTH_NODE_TOKEN is given and no token is stored yet, enrols and stores the token. Otherwise
 * does nothing. Throws (with the coordinator's reason) when enrolment is refused.
 */
export async function enrolIfConfigured(config: NodeConfig, env: NodeJS.ProcessEnv = process.env, log: (msg: string) => void = (m) => process.stderr.write(`${m}\n`)): Promise<void> {
  const e = loadConfig(enrolConfigSchema, env);
  if (!e.BERTH_COORDINATOR_URL || !e.BERTH_JOIN_TOKEN) {
    if (e.BERTH_COORDINATOR_URL || e.BERTH_JOIN_TOKEN) log('enrolment needs both BERTH_COORDINATOR_URL and BERTH_JOIN_TOKEN; not enrolling');
    return;
  }
  if (config.BERTH_NODE_TOKEN || hasStoredToken(config.BERTH_NODE_STATE_DIR)) return;
  const listen = config.BERTH_NODE_LISTEN;
  if (/:0$/.test(listen)) throw new Error('enrolment needs a fixed BERTH_NODE_LISTEN port (the coordinator stores the address)');
  if (!e.BERTH_NODE_ADVERTISE_ADDRESS && /^(0\.0\.0\.0|\[?::\]?):/.test(listen)) {
    log(`BERTH_NODE_LISTEN is ${listen}: telling the coordinator 127.0.0.1; set BERTH_NODE_ADVERTISE_ADDRESS to the address it can reach`);
  }
  const nodeId = await enrolOnBoot({
    coordinatorUrl: e.BERTH_COORDINATOR_URL,
    joinToken: e.BERTH_JOIN_TOKEN,
    name: config.BERTH_NODE_ID,
    stateDir: config.BERTH_NODE_STATE_DIR,
    listen: listen.replace(/^\[(.*)\]:/, '$1:'),
    advertise: e.BERTH_NODE_ADVERTISE_ADDRESS,
    tlsCertPath: config.BERTH_NODE_TLS_CERT,
    tlsKeyPath: config.BERTH_NODE_TLS_KEY,
    portRange: config.BERTH_NODE_PORT_RANGE,
  });
  if (nodeId) log(`enrolled with ${e.BERTH_COORDINATOR_URL} as node ${nodeId}; node token stored in ${tokenFile(config.BERTH_NODE_STATE_DIR)}`);
}
