import 'reflect-metadata';
import { ConfigError } from '@berth/config';
import { CatalogueError } from '@berth/catalog';
import { createApp } from './app';

async function main(): Promise<void> {
  const { app, config } = await createApp();
  app.enableShutdownHooks();
  await app.listen(config.PORT, config.HOST);
  console.log(`berth coordinator listening on http://${config.HOST}:${config.PORT} (${config.DATABASE_URL ? 'PostgreSQL' : 'embedded PGlite in ' + config.BERTH_DATA_DIR})`);
}

main().catch((e: unknown) => {
  // ConfigError and CatalogueError already name the variable / file; never print the environment.
  console.error(e instanceof ConfigError || e instanceof CatalogueError ? e.message : `coordinator failed to start: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
