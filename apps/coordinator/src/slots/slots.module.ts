import { Module } from '@nestjs/common';
import { CustomImagesModule } from '../custom-images/custom-images.module';
import { DeploymentsModule } from '../deployments/deployments.module';
import { RegistryModule } from '../registry/registry.module';
import { MySlotController } from './my-slot.controller';
import { MySlotService } from './my-slot.service';
import { SelectionValidator } from './selection';
import { SlotsController } from './slots.controller';
import { SlotsRepository } from './slots.repository';
import { SlotsService } from './slots.service';

@Module({
  imports: [CustomImagesModule, DeploymentsModule, RegistryModule],
  controllers: [SlotsController, MySlotController],
  providers: [SlotsRepository, SlotsService, SelectionValidator, MySlotService],
  exports: [SlotsRepository, SlotsService, SelectionValidator, DeploymentsModule],
})
export class SlotsModule {}
