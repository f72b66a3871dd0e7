import { randomBytes } from 'node:crypto';
import { Global, Module, type DynamicModule, type INestApplication, type Provider, type Type } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { AuditModule } from '../audit/audit.repository';
import { AuthModule } from '../auth/auth.module';
import { DomainErrorFilter } from '../common/domain-error.filter';
import { CONFIG, loadCoordinatorConfig } from '../config/config.schema';
import type { Database } from '../database/database';
import { DatabaseModule } from '../database/database.module';
import { CATALOGUE, RegistryService, catalogueFactory } from '../registry/registry.service';
import { SecretsService } from '../secrets/secrets.service';

/**
 * For specs that compile a slice of the coordinator instead of createApp: the globals createApp
 * would give it, as one @Global module — the config (with this admin token), secrets under a
 * random key, and (with `catalogue`) the shipped catalogue.
 */
export function coreTestModule(opts: { adminToken: string; catalogue?: boolean }): Type<unknown> {
  const providers: Provider[] = [
    { provide: CONFIG, useValue: loadCoordinatorConfig({ BERTH_ADMIN_TOKEN: opts.adminToken }) },
    { provide: SecretsService, useValue: new SecretsService(randomBytes(32)) },
    ...(opts.catalogue ? [{ provide: CATALOGUE, useValue: catalogueFactory() }] : []),
  ];
  @Global()
  @Module({ providers, exports: providers.map((p) => (p as { provide: unknown }).provide as string) })
  class CoreTestModule {}
  return CoreTestModule;
}

/**
 * An HTTP slice of the coordinator for admin API specs: the core globals (shipped catalogue,
 * synced), a database, audit and auth, the real error filter, and `imports`.
 */
export async function adminApiTestApp(adminToken: string, db: Database, imports: ModuleImport[]): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [coreTestModule({ adminToken, catalogue: true }), DatabaseModule.forDatabase(db), AuditModule, AuthModule, ...imports],
    providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  await app.get(RegistryService).sync();
  return app;
}
type ModuleImport = Type<unknown> | DynamicModule;
