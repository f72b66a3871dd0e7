import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { MiB, SlotDeploySpec } from '@berth/domain';
import { createNodeAgentClient, DeployEvent, NodeAgentClient, toProtoDeploySpec } from '@berth/proto';
import { buildStandinImage, removeDockerObjectsByLabel, testDocker, TestContainerInfo } from '@berth/testing';
import { startNodeAgent, type NodeAgentHandle } from '../src/node-agent';
export { waitFor } from '@berth/testing';
import { loadNodeConfig, NodeConfig } from '../src/config';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON bodies of the stand-in, checked by the tests
type Any = any;

export const STANDIN_TAG = 'berth-test/standin:node-agent';
export const docker = testDocker();

export function standinImage(): Promise<string> {
  return buildStandinImage({
    tag: STANDIN_TAG,
    ports: [18789, 18790],
    healthPath: '/readyz',
    healthPort: 18789,
    dataDir: '/data',
  });
}

/** A fresh node id (every Docker object the daemon makes carries berth.node=<id>), a free port range. */
export function testConfig(over: Record<string, string> = {}): NodeConfig {
  const id = `t-${randomBytes(4).toString('hex')}`;
  // Below Linux's ephemeral range (32768+), where outgoing sockets would take pool ports at
  // random, and clear of the e2e suites' ranges (31000+).
  const from = 21000 + Math.floor(Math.random() * 90) * 100;
  return loadNodeConfig({
    BERTH_NODE_ID: id,
    BERTH_NODE_LISTEN: '127.0.0.1:0',
    BERTH_NODE_METRICS_LISTEN: '127.0.0.1:0',
    BERTH_NODE_STATE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'berth-node-')),
    BERTH_NODE_TOKEN: randomBytes(24).toString('hex'),
    BERTH_NODE_PORT_RANGE: `${from}-${from + 99}`,
    BERTH_NODE_ALLOCATABLE_MEMORY: '8GiB',
    BERTH_NODE_ALLOCATABLE_CPU: '4',
    BERTH_NODE_RESYNC_MS: '3000',
    BERTH_NODE_LOG_LEVEL: 'warn',
    ...over,
  });
}

export function spec(
  slotId: string,
  over: Partial<SlotDeploySpec> = {},
  env: Record<string, string> = {},
): SlotDeploySpec {
  return {
    deploymentId: `dep-${slotId}-${randomBytes(3).toString('hex')}`,
    slotId,
    customerId: `cust-${slotId}`,
    agentTypeId: 'standin',
    agentVersion: '1.0.0',
    image: STANDIN_TAG,
    env: { STANDIN_BEHAVIOUR: 'healthy', ...env },
    ports: [
      { name: 'gateway', containerPort: 18789, publish: true },
      { name: 'bridge', containerPort: 18790, publish: true },
    ],
    health: {
      path: '/readyz',
      portName: 'gateway',
      startPeriodMs: 4000,
      intervalMs: 300,
      timeoutMs: 1000,
      failureThreshold: 3,
    },
    resources: { memoryBytes: 128 * MiB, nanoCpus: 250_000_000, pidsLimit: 64 },
    dataMountPath: '/data',
    files: [{ path: 'config/agent.json', content: '{"gateway":{"mode":"local"}}' }],
    readOnlyRootfs: true,
    capAdd: [],
    ...over,
  };
}

export function client(
  address: string,
  token: string,
  certPem: string,
  fingerprint?: string,
): NodeAgentClient {
  return createNodeAgentClient(address, { token, serverCertPem: certPem, fingerprintSha256: fingerprint });
}

/** Runs Deploy and collects every progress event until the stream ends. */
export function deploy(c: NodeAgentClient, s: SlotDeploySpec, replace = false): Promise<DeployEvent[]> {
  return collect(c.deploy({ spec: toProtoDeploySpec(s), replace }));
}

export function collect<T>(stream: ClientReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  return new Promise((resolve, reject) => {
    stream.on('data', (e: T) => out.push(e));
    stream.on('end', () => resolve(out));
    stream.on('error', reject);
  });
}

export function call<Req, Res>(c: NodeAgentClient, method: keyof NodeAgentClient, req: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    (c[method] as unknown as (r: Req, cb: (e: ServiceError | null, r: Res) => void) => void).call(
      c,
      req,
      (e, r) => (e ? reject(e) : resolve(r)),
    ),
  );
}

export async function http(
  hostPort: string,
  pathAndQuery: string,
  init?: RequestInit,
): Promise<{ status: number; body: Any }> {
  const res = await fetch(`http://${hostPort}${pathAndQuery}`, {
    ...init,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let body: Any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* text */
  }
  return { status: res.status, body };
}

export async function containersOf(nodeId: string): Promise<TestContainerInfo[]> {
  return docker.listContainers({ all: true, filters: JSON.stringify({ label: [`berth.node=${nodeId}`] }) });
}

/**
 * One in-process daemon (and a client to it) for a describe block: started before its tests
 * with the stand-in image built, stopped after them with every Docker object it made removed.
 */
export function useTestAgent(over: Record<string, string> = {}): { agent: NodeAgentHandle; c: NodeAgentClient } {
  const ctx = {} as { agent: NodeAgentHandle; c: NodeAgentClient };
  beforeAll(async () => {
    await standinImage();
    ctx.agent = await startNodeAgent(testConfig(over));
    await ctx.agent.ready;
    ctx.c = client(ctx.agent.grpcAddress, ctx.agent.token, ctx.agent.certPem, ctx.agent.fingerprintSha256);
  });
  afterAll(async () => {
    ctx.c?.close();
    await ctx.agent?.stop();
    if (ctx.agent) await removeDockerObjectsByLabel(`berth.node=${ctx.agent.nodeId}`);
  });
  return ctx;
}
