import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AccountsModule } from './accounts/accounts.module';
import { AdminModule } from './admin/admin.module';
import { AuditModule } from './audit/audit.repository';
import { AuthModule } from './auth/auth.module';
import { DomainErrorFilter } from './common/domain-error.filter';
import { CONFIG, type CoordinatorConfig } from './config/config.schema';
import { EnvModule } from './config/env.module';
import type { Database } from './database/database';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { ImagesModule } from './images/images.module';
import { MarketplaceModule } from './marketplace/marketplace.module';
import { MetricsModule } from './metrics/metrics.module';
import { CATALOGUE, catalogueFactory } from './registry/registry.service';
import { SecretsModule } from './secrets/secrets.module';
import { SecretsService } from './secrets/secrets.service';
import { SlotsModule } from './slots/slots.module';
import { NodesModule } from './nodes/nodes.module';
import { NodeImagesModule } from './nodes/node-images.module';
import { DeploymentsModule } from './deployments/deployments.module';
import { WebModule } from './web/web.module';

@Module({})
class CoreModule {}

export interface AppModuleOptions {
  config: CoordinatorConfig;
  db: Database;
  masterKey: Buffer;
  env: NodeJS.ProcessEnv;
}

@Module({})
export class AppModule {
  static forRoot(o: AppModuleOptions): DynamicModule {
    const core: DynamicModule = {
      module: CoreModule,
      global: true,
      providers: [
        { provide: CONFIG, useValue: o.config },
        { provide: SecretsService, useValue: new SecretsService(o.masterKey) },
        { provide: CATALOGUE, useValue: catalogueFactory(o.config.BERTH_TEMPLATES_DIR, o.config.BERTH_CATALOGUE_DIRS) },
      ],
      exports: [CONFIG, SecretsService, CATALOGUE],
    };
    return {
      module: AppModule,
      imports: [
        core,
        EnvModule.forRoot(o.env),
        DatabaseModule.forDatabase(o.db),
        MetricsModule,
        AuditModule,
        AuthModule,
        SecretsModule,
        ImagesModule,
        HealthModule,
        MarketplaceModule,
        AccountsModule,
        SlotsModule,
        NodesModule,
        NodeImagesModule,
        DeploymentsModule,
        AdminModule,
        WebModule,
      ],
      providers: [{ provide: APP_FILTER, useClass: DomainErrorFilter }],
    };
  }
}
