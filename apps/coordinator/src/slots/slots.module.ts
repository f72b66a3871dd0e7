import { Module } from '@nestjs/common';
import { SlotsController } from './slots.controller';
import { SlotsRepository } from './slots.repository';
import { SlotsService } from './slots.service';

@Module({ controllers: [SlotsController], providers: [SlotsRepository, SlotsService], exports: [SlotsRepository, SlotsService] })
export class SlotsModule {}
