import { Module } from '@nestjs/common';
import { ENV } from '../config/config.schema';
import { CustomImagesModule } from '../custom-images/custom-images.module';
import { ImagesModule } from '../images/images.module';
import { NodesModule } from '../nodes/nodes.module';
import { FleetService } from '../nodes/fleet.service';
import { RegistryModule } from '../registry/registry.module';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { SecretsModule } from '../secrets/secrets.module';
import { DataRetention } from './data-retention';
import { DeploymentBus } from './deployment-bus';
import { DeploymentRunner } from './deployment-runner';
import { DeploymentsController } from './deployments.controller';
import { DEPLOYMENTS_CONFIG, loadDeploymentsConfig } from './deployments.config';
import { DeploymentsRepository } from './deployments.repository';
import { DeploymentsService } from './deployments.service';
import { FleetReactions } from './fleet-reactions';
import { GrpcNodeGateway } from './grpc-node-gateway';
import { NODE_GATEWAY } from './node-gateway';
import { SlotKeys } from './slot-keys';
import { SlotSecretsRepository } from './slot-secrets.repository';
import { SlotSpecBuilder } from './slot-spec.builder';

@Module({
  imports: [CustomImagesModule, ImagesModule, NodesModule, RegistryModule, SchedulerModule, SecretsModule],
  controllers: [DeploymentsController],
  providers: [
    { provide: DEPLOYMENTS_CONFIG, inject: [ENV], useFactory: (env: NodeJS.ProcessEnv) => loadDeploymentsConfig(env) },
    { provide: NODE_GATEWAY, inject: [FleetService], useFactory: (fleet: FleetService) => new GrpcNodeGateway((id) => fleet.getClient(id)) },
    DataRetention,
    DeploymentBus,
    DeploymentsRepository,
    DeploymentRunner,
    DeploymentsService,
    FleetReactions,
    SlotKeys,
    SlotSecretsRepository,
    SlotSpecBuilder,
  ],
  exports: [DeploymentsService, DeploymentRunner, NODE_GATEWAY, SlotSpecBuilder, DeploymentsRepository],
})
export class DeploymentsModule {}
