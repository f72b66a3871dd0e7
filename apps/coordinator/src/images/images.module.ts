import { Module } from '@nestjs/common';
import { ImageDigestsRepository } from './image-digests.repository';
import { ImageDigestsService } from './image-digests.service';
import { RegistriesController } from './registries.controller';
import { RegistryCredentialsRepository } from './registry-credentials.repository';
import { RegistryCredentialsService } from './registry-credentials.service';

/** Agent images: registry credentials (admin API, sent with deploys) and the digests deployments ran. */
@Module({
  controllers: [RegistriesController],
  providers: [RegistryCredentialsRepository, RegistryCredentialsService, ImageDigestsRepository, ImageDigestsService],
  exports: [RegistryCredentialsService, ImageDigestsService],
})
export class ImagesModule {}
