import { Module } from '@nestjs/common';
import { ImagesModule } from '../images/images.module';
import { RegistryModule } from '../registry/registry.module';
import { FleetService } from './fleet.service';
import { ImagePrePullService } from './image-prepull.service';
import { GrpcNodeImageCalls, NODE_IMAGE_CALLS } from './node-image-calls';
import { NodesModule } from './nodes.module';

/**
 * Pre-pull of the active catalogue's images onto every up node (ImagePrePullService). Its own
 * module so the fleet (NodesModule) keeps needing nothing but the database and secrets; specs
 * override NODE_IMAGE_CALLS with the fake node gateway.
 */
@Module({
  imports: [NodesModule, RegistryModule, ImagesModule],
  providers: [
    { provide: NODE_IMAGE_CALLS, inject: [FleetService], useFactory: (fleet: FleetService) => new GrpcNodeImageCalls((id) => fleet.getClient(id)) },
    ImagePrePullService,
  ],
  exports: [ImagePrePullService],
})
export class NodeImagesModule {}
