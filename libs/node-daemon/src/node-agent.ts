import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { NodeAgentService } from '@berth/proto';
import { NodeConfig } from './config';
import { createNodeAgentHandlers } from './grpc/node-agent.handlers';
import { makeTokenCheck } from './grpc/auth';
import { loadOrCreateTls } from './grpc/tls';
import { ImageService } from './images/image.service';
import { createLogger, errorMessage, Logger } from './logger';
import { NodeMetrics, startMetricsServer } from './metrics/node-metrics';
import { PortPool } from './ports/port-pool';
import { ContainerRuntime, LABELS } from './runtime/container-runtime';
import { DockerRuntime } from './runtime/docker.runtime';
import type { SlotRecord } from './slots/slot-record';
import { SlotReconciler } from './slots/slot.reconciler';
import { SlotService } from './slots/slot.service';

export const DAEMON_VERSION = '0.1.0';

export interface NodeAgentHandle {
  nodeId: string;
  /** host:port the gRPC server listens on (the real port when 0 was asked). */
  grpcAddress: string;
  metricsAddress: string;
  token: string;
  certPem: string;
  fingerprintSha256: string;
  slots: SlotService;
  /** Resolves after the first full sync with Docker (adoption done). */
  ready: Promise<void>;
  /** Stops serving; leaves every slot container running (they are adopted on the next start). */
  stop(): Promise<void>;
}

export interface StartOptions {
  runtime?: ContainerRuntime;
  logger?: Logger;
}

/** Starts the daemon in-process (main.ts, tests, and the all-in-one `npm start`: apps/coordinator/src/local-node.ts). */
export async function startNodeAgent(config: NodeConfig, opts: StartOptions = {}): Promise<NodeAgentHandle> {
  const nodeId = config.BERTH_NODE_ID;
  const log = opts.logger ?? createLogger(config.BERTH_NODE_LOG_LEVEL, nodeId);
  fs.mkdirSync(config.BERTH_NODE_STATE_DIR, { recursive: true, mode: 0o700 });
  const tlsMaterial = await loadOrCreateTls(
    config.BERTH_NODE_STATE_DIR,
    nodeId,
    config.BERTH_NODE_TLS_CERT,
    config.BERTH_NODE_TLS_KEY,
  );
  const token = config.BERTH_NODE_TOKEN ?? readOrCreateToken(config.BERTH_NODE_STATE_DIR, log);

  const runtime = opts.runtime ?? new DockerRuntime(nodeId);
  const metrics = new NodeMetrics();
  const pool = new PortPool(
    config.BERTH_NODE_PORT_RANGE.from,
    config.BERTH_NODE_PORT_RANGE.to,
    config.BERTH_NODE_PUBLISH_IP,
  );
  const images = new ImageService(
    runtime,
    metrics,
    {
      budgetBytes: config.BERTH_NODE_IMAGE_BUDGET,
      retryWindowMs: config.BERTH_NODE_PULL_RETRY_MS,
      stallMs: config.BERTH_NODE_PULL_STALL_MS,
      stateDir: config.BERTH_NODE_STATE_DIR,
    },
    log,
  );
  const slots = new SlotService(
    runtime,
    pool,
    metrics,
    {
      nodeId,
      publishIp: config.BERTH_NODE_PUBLISH_IP,
      restartMaxRetries: config.BERTH_NODE_RESTART_MAX_RETRIES,
      allocatableMemoryBytes: config.BERTH_NODE_ALLOCATABLE_MEMORY,
      allocatableNanoCpus: config.BERTH_NODE_ALLOCATABLE_CPU,
      reserveMemoryBytes: config.BERTH_NODE_RESERVE_MEMORY,
      reserveNanoCpus: config.BERTH_NODE_RESERVE_CPU,
    },
    log,
    images,
  );
  // Images this node's slots use are never evicted: every container it labelled (running or
  // stopped) and every slot record (deploys in progress included).
  images.cache.useInUse(async () => [
    ...(await runtime.list()).map((c) => c.handle?.image ?? c.labels[LABELS.image] ?? ''),
    ...[...slots.slots.values()].map((r) => r.image),
  ]);
  slots.events.on('state', (rec: SlotRecord) => {
    if (rec.state === 'starting') images.cache.touch(rec.image);
  });
  const reconciler = new SlotReconciler(
    runtime,
    slots,
    metrics,
    {
      resyncMs: config.BERTH_NODE_RESYNC_MS,
      reapGraceMs: config.BERTH_NODE_REAP_GRACE_MS,
      reapDryRun: config.BERTH_NODE_REAP_DRY_RUN,
    },
    log,
  );

  let dockerVersion = '';
  const server = new Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
  server.addService(
    NodeAgentService,
    createNodeAgentHandlers({
      slots,
      images,
      checkAuth: makeTokenCheck(token),
      log,
      nodeId,
      heartbeatMs: 5000,
      info: async () => {
        if (!dockerVersion)
          dockerVersion = await runtime.info().then(
            (i) => i.engineVersion,
            () => '',
          );
        return {
          nodeId,
          daemonVersion: DAEMON_VERSION,
          protocolVersions: [],
          dockerVersion,
          tlsFingerprintSha256: tlsMaterial.fingerprintSha256,
          publishIp: config.BERTH_NODE_PUBLISH_IP,
          portRangeFrom: config.BERTH_NODE_PORT_RANGE.from,
          portRangeTo: config.BERTH_NODE_PORT_RANGE.to,
        };
      },
    }),
  );
  const creds = ServerCredentials.createSsl(
    null,
    [{ cert_chain: Buffer.from(tlsMaterial.certPem), private_key: Buffer.from(tlsMaterial.keyPem) }],
    false,
  );
  const boundPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(config.BERTH_NODE_LISTEN, creds, (err, port) => (err ? reject(err) : resolve(port))),
  );
  const host = config.BERTH_NODE_LISTEN.replace(/:\d+$/, '');
  const grpcAddress = `${host === '0.0.0.0' ? '127.0.0.1' : host}:${boundPort}`;

  const [mHost, mPort] = [
    config.BERTH_NODE_METRICS_LISTEN.replace(/:\d+$/, ''),
    Number(config.BERTH_NODE_METRICS_LISTEN.split(':').pop()),
  ];
  const metricsServer: http.Server = await startMetricsServer(
    metrics,
    mHost.replace(/^\[|\]$/g, ''),
    mPort,
    () => slots.updateMetrics(),
  );
  const metricsAddress = `${mHost}:${(metricsServer.address() as { port: number }).port}`;

  const ready = reconciler.start().then(() => {
    log.info('synced with Docker', { slots: slots.slots.size });
    void images.refreshDiskUsage();
  });
  log.info('node daemon listening', {
    grpc: grpcAddress,
    metrics: metricsAddress,
    tlsFingerprintSha256: tlsMaterial.fingerprintSha256,
    generatedCert: tlsMaterial.generated,
    publishIp: config.BERTH_NODE_PUBLISH_IP,
    portRange: `${pool.from}-${pool.to}`,
  });

  return {
    nodeId,
    grpcAddress,
    metricsAddress,
    token,
    certPem: tlsMaterial.certPem,
    fingerprintSha256: tlsMaterial.fingerprintSha256,
    slots,
    ready,
    async stop() {
      reconciler.stop();
      slots.shutdown();
      // Streams (WatchEvents, followed logs) never end on their own: give calls in flight a
      // moment to finish, then cut what is left.
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      server.forceShutdown();
      await new Promise<void>((resolve) => metricsServer.close(() => resolve()));
      metricsServer.closeAllConnections?.();
      log.info('node daemon stopped; slots keep running');
    },
  };
}

/** Without BERTH_NODE_TOKEN: a token generated once into the state dir (mode 0600). Its value is never logged. */
function readOrCreateToken(stateDir: string, log: Logger): string {
  const file = path.join(stateDir, 'token');
  try {
    const t = fs.readFileSync(file, 'utf8').trim();
    if (t.length >= 16) return t;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
      log.warn('cannot read token file', { file, error: errorMessage(e) });
  }
  const t = randomBytes(32).toString('base64url');
  fs.writeFileSync(file, t + '\n', { mode: 0o600 });
  log.warn('BERTH_NODE_TOKEN not set: generated a node token', { file });
  return t;
}
