import { loadNodeConfig } from './config';
import { enrolIfConfigured } from './enrol';
import { startNodeAgent } from './node-agent';

/** `npm run start:node`: config checked once at boot, then the daemon; SIGTERM/SIGINT stop it gracefully. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadNodeConfig();
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exit(78); // EX_CONFIG
  }
  await enrolIfConfigured(config); // BERTH_COORDINATOR_URL + BERTH_JOIN_TOKEN, first start only (apps/node-agent/src/enrol.ts)
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
