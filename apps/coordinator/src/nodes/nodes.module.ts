import { Module } from '@nestjs/common';
import { createNodeAgentClient, fetchServerCertificate } from '@berth/proto';
import { ENV } from '../config/config.schema';
import { SchedulerModule } from '../scheduler/scheduler.module';
import { FleetService } from './fleet.service';
import { NODE_TRANSPORT, type NodeTransport } from './node-connection';
import { AdminNodesController, NodeEnrolmentController } from './nodes.controller';
import { NODES_CONFIG, loadNodesConfig } from './nodes.config';
import { NodeImagesRepository } from './node-images.repository';
import { NodesRepository } from './nodes.repository';
import { NodesService } from './nodes.service';

export const grpcNodeTransport: NodeTransport = {
  fetchCertificate: (address) => fetchServerCertificate(address),
  createClient: (address, c) => createNodeAgentClient(address, c),
};

/**
 * The fleet: enrolment, the node registry, live connections and down detection.
 * Needs DATABASE, SecretsService and AuditRepository from the app (global there).
 * Fails at boot naming BERTH_NODE_GRACE_SECONDS / BERTH_NODE_HEARTBEAT_MS / BERTH_JOIN_TOKEN_TTL_SECONDS when bad.
 */
@Module({
  imports: [SchedulerModule],
  controllers: [AdminNodesController, NodeEnrolmentController],
  providers: [
    { provide: NODES_CONFIG, inject: [ENV], useFactory: (env: NodeJS.ProcessEnv) => loadNodesConfig(env) },
    { provide: NODE_TRANSPORT, useValue: grpcNodeTransport },
    NodesRepository,
    NodeImagesRepository,
    FleetService,
    NodesService,
  ],
  exports: [NodesRepository, NodeImagesRepository, FleetService, NodesService, SchedulerModule],
})
export class NodesModule {}
