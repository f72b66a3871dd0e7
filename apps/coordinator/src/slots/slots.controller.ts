import { Controller, Get, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Auth, CurrentCustomerId } from '../auth/auth.guard';
import { SlotsService } from './slots.service';

@ApiTags('slots')
@ApiBearerAuth()
@Auth('customer')
@Controller('api/slots')
export class SlotsController {
  constructor(private readonly slots: SlotsService) {}

  @Get(':id')
  get(@CurrentCustomerId() customerId: string, @Param('id') id: string) {
    return this.slots.getForCustomer(customerId, id);
  }
}
