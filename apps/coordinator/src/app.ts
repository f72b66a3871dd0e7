import { Logger, type LogLevel, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { NextFunction, Request, Response } from 'express';
import { AppModule } from './app.module';
import { DomainErrorFilter } from './common/domain-error.filter';
import { loadCoordinatorConfig, type CoordinatorConfig } from './config/config.schema';
import { openDatabase, pgliteDirFor, type Database } from './database/database';
import { migrate } from './database/migrator';
import { MetricsService } from './metrics/metrics.service';
import { DeploymentRunner } from './deployments/deployment-runner';
import { RegistryModule } from './registry/registry.module';
import { RegistryService } from './registry/registry.service';
import { loadMasterKey } from './secrets/master-key';

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

export interface CreateAppOptions {
  /** Environment to read the configuration from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** An already-open database (tests); otherwise the configuration's. */
  db?: Database;
  logger?: LoggerService | false;
}

export interface CoordinatorApp {
  app: NestExpressApplication;
  config: CoordinatorConfig;
  db: Database;
  close(): Promise<void>;
}

/**
 * Boots the coordinator: config (fails naming the variable), database, migrations,
 * master key, Nest app, catalogue sync. Does not listen; main.ts does.
 */
export async function createApp(opts: CreateAppOptions = {}): Promise<CoordinatorApp> {
  const config = loadCoordinatorConfig(opts.env ?? process.env);
  const logger = new Logger('coordinator');
  const ownDb = !opts.db;
  const db = opts.db ?? (await openDatabase({ databaseUrl: config.DATABASE_URL, pgliteDir: pgliteDirFor(config.BERTH_DATA_DIR) }));
  try {
    await migrate(db.sql, { log: (m) => logger.log(m), warn: (m) => logger.warn(m) });
    const { key, source } = loadMasterKey({ masterKeyB64: config.BERTH_MASTER_KEY, dataDir: config.BERTH_DATA_DIR });
    if (source === 'generated') logger.warn(`generated a new master key in ${config.BERTH_DATA_DIR}/master.key (mode 0600); back it up`);

    const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ config, db, masterKey: key, env: opts.env ?? process.env }), {
      bodyParser: false,
      logger: opts.logger === undefined ? LEVELS.slice(0, LEVELS.indexOf(config.LOG_LEVEL) + 1) : opts.logger,
    });
    app.set('trust proxy', config.BERTH_TRUST_PROXY);
    app.disable('x-powered-by');
    app.use(app.get(MetricsService).middleware());
    app.useBodyParser('json', { limit: config.BERTH_BODY_LIMIT });
    // Body-parser errors (413, malformed JSON) happen before routing: map them with the same filter.
    const filter = new DomainErrorFilter();
    app.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (!err) return next();
      const [status, body] = filter.map(err);
      res.status(status).json(body);
    });
    const doc = SwaggerModule.createDocument(
      app,
      new DocumentBuilder().setTitle('Berth coordinator').setDescription('Marketplace, accounts, slots and admin API').setVersion('0.1.0').addBearerAuth().build(),
    );
    SwaggerModule.setup('api/docs', app, () => doc, { jsonDocumentUrl: 'api/docs/openapi.json' });
    await app.init();
    await app.select(RegistryModule).get(RegistryService).sync();
    // Deployments a previous run left unfinished go on from where the database says they are.
    await app.get(DeploymentRunner).resume();
    return {
      app,
      config,
      db,
      close: async () => {
        await app.close();
        if (ownDb) await db.close();
      },
    };
  } catch (e) {
    if (ownDb) await db.close().catch(() => undefined);
    throw e;
  }
}
