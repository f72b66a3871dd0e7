import { Module } from '@nestjs/common';
import { RegistryRepository } from './registry.repository';
import { RegistryService } from './registry.service';

@Module({ providers: [RegistryRepository, RegistryService], exports: [RegistryService] })
export class RegistryModule {}
