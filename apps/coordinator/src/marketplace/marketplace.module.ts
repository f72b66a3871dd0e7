import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { MarketplaceController } from './marketplace.controller';
import { MarketplaceRepository } from './marketplace.repository';
import { MarketplaceService } from './marketplace.service';

@Module({ imports: [RegistryModule], controllers: [MarketplaceController], providers: [MarketplaceRepository, MarketplaceService] })
export class MarketplaceModule {}
