import { Controller, Get, Param, ParseUUIDPipe, Sse, type MessageEvent } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Observable, map } from 'rxjs';
import { Auth, CurrentCustomerId } from '../auth/auth.guard';
import { DeploymentsService } from './deployments.service';

@ApiTags('deployments')
@ApiBearerAuth()
@Auth('customer')
@Controller('api/deployments')
export class DeploymentsController {
  constructor(private readonly deployments: DeploymentsService) {}

  @Get(':id')
  @ApiOperation({ summary: 'A deployment of your slot, with its events so far' })
  get(@CurrentCustomerId() customerId: string, @Param('id', new ParseUUIDPipe()) id: string) {
    return this.deployments.get(customerId, id);
  }

  @Sse(':id/events')
  @ApiOperation({ summary: 'Server-sent events: the stored events, then live ones until the deployment ends' })
  async events(@CurrentCustomerId() customerId: string, @Param('id', new ParseUUIDPipe()) id: string): Promise<Observable<MessageEvent>> {
    const events$ = await this.deployments.follow(customerId, id);
    return events$.pipe(map((e) => ({ id: String(e.seq), type: e.type, data: e })));
  }
}
