import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { loadNodeConfig, startNodeAgent, type NodeAgentHandle } from '@berth/node-daemon';
import type { CoordinatorApp } from './app';
import { NodesService } from './nodes/nodes.service';

/** How long `npm start` waits for the local Docker engine before saying the local node is unavailable. */
const DOCKER_WAIT_MS = 10_000;

/**
 * The all-in-one install: a node daemon in this process, on the local Docker engine, registered
 * with the coordinator without a join token. Without a Docker engine the coordinator still runs
 * and says so plainly; the node registers itself as soon as Docker answers.
 */
export async function startLocalNode(c: CoordinatorApp, env: NodeJS.ProcessEnv = process.env): Promise<NodeAgentHandle | null> {
  const log = new Logger('local-node');
  if (!c.config.BERTH_LOCAL_NODE) return null;
  const nodeConfig = loadNodeConfig({
    ...env,
    BERTH_NODE_ID: env.BERTH_NODE_ID ?? 'local',
    BERTH_NODE_LISTEN: c.config.BERTH_LOCAL_NODE_LISTEN,
    BERTH_NODE_STATE_DIR: env.BERTH_NODE_STATE_DIR ?? join(c.config.BERTH_DATA_DIR, 'node'),
  });
  const node = await startNodeAgent(nodeConfig);
  const register = async () => {
    await c.app.get(NodesService).registerLocalNode({
      name: node.nodeId,
      address: node.grpcAddress,
      token: node.token,
      fingerprintSha256: node.fingerprintSha256,
    });
    log.log(`local node '${node.nodeId}' ready on ${node.grpcAddress} (Docker: ${nodeConfig.DOCKER_HOST ?? '/var/run/docker.sock'})`);
  };
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), DOCKER_WAIT_MS).unref());
  if ((await Promise.race([node.ready.then(() => 'ready' as const), timeout])) === 'timeout') {
    log.warn(
      `local node unavailable: no Docker engine answers at ${nodeConfig.DOCKER_HOST ?? '/var/run/docker.sock'}. ` +
        'The coordinator runs; slots stay pending until Docker starts here or another node enrols.',
    );
    void node.ready.then(register).catch((e: Error) => log.error(`local node: ${e.message}`));
  } else {
    await register();
  }
  return node;
}
