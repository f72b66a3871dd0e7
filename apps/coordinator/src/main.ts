import 'reflect-metadata';
import { ConfigError } from '@berth/config';
import { CatalogueError } from '@berth/catalog';
import { createApp } from './app';
import { startLocalNode } from './local-node';

async function main(): Promise<void> {
  const c = await createApp();
  const { app, config } = c;
  await app.listen(config.PORT, config.HOST);
  console.log(`berth coordinator listening on http://${config.HOST}:${config.PORT} (${config.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite in ' + config.BERTH_DATA_DIR})`);
  const node = await startLocalNode(c);
  const shutdown = async () => {
    await node?.stop(); // slots keep running; the next start adopts them
    await c.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown());
  process.once('SIGINT', () => void shutdown());
}

main().catch((e: unknown) => {
  // ConfigError and CatalogueError already name the variable / file; never print the environment.
  console.error(e instanceof ConfigError || e instanceof CatalogueError ? e.message : `coordinator failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
