import { enrolIfConfigured, loadNodeConfig, startNodeAgent } from '@berth/node-daemon';

/**
 * `npm run start:node`: a host's node daemon. The daemon itself lives in libs/node-daemon (the
 * coordinator's all-in-one install starts the same code in its own process); this file only checks
 * the config once at boot, enrols on first start, and turns SIGTERM/SIGINT into a graceful stop.
 */
async function main(): Promise<void> {
  let config;
  try {
    config = loadNodeConfig();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(78); // EX_CONFIG
  }
  await enrolIfConfigured(config); // BERTH_COORDINATOR_URL + BERTH_JOIN_TOKEN, first start only (libs/node-daemon/src/enrol.ts)
  const agent = await startNodeAgent(config);
  const shutdown = async (signal: string) => {
    process.stderr.write(`received ${signal}, stopping (slots keep running)\n`);
    await agent.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

void main().catch((e) => {
  process.stderr.write(`node daemon failed to start: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
