import { randomBytes } from 'node:crypto';
import { Global, Module, type Provider, type Type } from '@nestjs/common';
import { CONFIG, loadCoordinatorConfig } from '../config/config.schema';
import { CATALOGUE, catalogueFactory } from '../registry/registry.service';
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
