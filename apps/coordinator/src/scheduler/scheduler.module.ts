import { Module } from '@nestjs/common';
import { ENV } from '../config/config.schema';
import { PlacementService } from './placement.service';
import { SCHEDULER_CONFIG, loadSchedulerConfig } from './scheduler.config';

/** Placement for the deployment flow. Fails at boot if BERTH_SCHEDULER_STRATEGY is not spread|binpack. */
@Module({
  providers: [
    { provide: SCHEDULER_CONFIG, inject: [ENV], useFactory: (env: NodeJS.ProcessEnv) => loadSchedulerConfig(env) },
    PlacementService,
  ],
  exports: [PlacementService],
})
export class SchedulerModule {}
