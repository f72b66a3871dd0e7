import { Module } from '@nestjs/common';
import { ENV } from '../config/config.schema';
import { CUSTOM_IMAGES_CONFIG, loadCustomImagesConfig } from './custom-images.config';
import { CustomImagesService } from './custom-images.service';

/** Images customers name: the operator's rules (allow list, size limit) and how their pulls go (issue 10). */
@Module({
  providers: [
    { provide: CUSTOM_IMAGES_CONFIG, inject: [ENV], useFactory: (env: NodeJS.ProcessEnv) => loadCustomImagesConfig(env) },
    CustomImagesService,
  ],
  exports: [CustomImagesService, CUSTOM_IMAGES_CONFIG],
})
export class CustomImagesModule {}
