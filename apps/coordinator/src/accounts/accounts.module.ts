import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { SlotsModule } from '../slots/slots.module';
import { AccountsController } from './accounts.controller';
import { AccountsRepository } from './accounts.repository';
import { AccountsService } from './accounts.service';

@Module({ imports: [RegistryModule, SlotsModule], controllers: [AccountsController], providers: [AccountsRepository, AccountsService] })
export class AccountsModule {}
