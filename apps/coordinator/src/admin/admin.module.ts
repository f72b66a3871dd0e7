import { Module } from '@nestjs/common';
import { RegistryModule } from '../registry/registry.module';
import { AdminController } from './admin.controller';

@Module({ imports: [RegistryModule], controllers: [AdminController] })
export class AdminModule {}
