import { Module } from '@nestjs/common';
import { ImagesModule } from '../images/images.module';
import { RegistryModule } from '../registry/registry.module';
import { AdminController } from './admin.controller';

@Module({ imports: [RegistryModule, ImagesModule], controllers: [AdminController] })
export class AdminModule {}
