import { Body, Controller, Delete, Get, HttpCode, Post, Put, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { Auth, CurrentCustomerId } from '../auth/auth.guard';
import { ZodPipe } from '../common/validation';
import { addonsSchema, logsQuerySchema, switchSchema, type AddonsDto, type SwitchDto } from './dto/slot.dto';
import { MySlotService } from './my-slot.service';

/** The customer's own slot. Changes answer 202 with the deployment to follow at /api/deployments/:id/events. */
@ApiTags('slot')
@ApiBearerAuth()
@Auth('customer')
@Controller('api')
export class MySlotController {
  constructor(private readonly slot: MySlotService) {}

  @Get('slot')
  @ApiOperation({ summary: 'Your slot: state, agent, provider, node, published ports, resources, add-ons, health, latest deployment' })
  get(@CurrentCustomerId() customerId: string) {
    return this.slot.view(customerId);
  }

  @Post('slot/switch')
  @HttpCode(202)
  @ApiBody({ schema: z.toJSONSchema(switchSchema, { io: 'input' }) as object })
  @ApiOperation({ summary: 'Switch agent and/or LLM provider; rolls back if the new agent never becomes healthy' })
  switch(@CurrentCustomerId() customerId: string, @Body(new ZodPipe(switchSchema)) dto: SwitchDto) {
    return this.slot.switchAgent(customerId, dto);
  }

  @Post('slot/stop')
  @HttpCode(202)
  stop(@CurrentCustomerId() customerId: string) {
    return this.slot.power(customerId, 'stop');
  }

  @Post('slot/start')
  @HttpCode(202)
  start(@CurrentCustomerId() customerId: string) {
    return this.slot.power(customerId, 'start');
  }

  @Post('slot/restart')
  @HttpCode(202)
  restart(@CurrentCustomerId() customerId: string) {
    return this.slot.power(customerId, 'restart');
  }

  @Delete('slot')
  @HttpCode(202)
  @ApiOperation({ summary: 'Terminate the slot; its data is kept for the retention period' })
  terminate(@CurrentCustomerId() customerId: string) {
    return this.slot.terminate(customerId);
  }

  @Put('slot/addons')
  @HttpCode(202)
  @ApiBody({ schema: z.toJSONSchema(addonsSchema, { io: 'input' }) as object })
  addons(@CurrentCustomerId() customerId: string, @Body(new ZodPipe(addonsSchema)) dto: AddonsDto) {
    return this.slot.setAddons(customerId, dto);
  }

  @Get('slot/compose')
  @ApiOperation({ summary: 'Your compose file, secrets replaced by ${VARIABLE} placeholders' })
  async compose(@CurrentCustomerId() customerId: string, @Res() res: Response) {
    const { yaml, variables } = await this.slot.compose(customerId);
    res.setHeader('Content-Type', 'application/yaml; charset=utf-8');
    res.setHeader('Content-Disposition', 'attachment; filename="compose.yaml"');
    res.setHeader('X-Berth-Variables', variables.join(','));
    res.send(yaml);
  }

  @Get('slot/logs')
  @ApiOperation({ summary: 'Container output: ?tail=200 lines; ?follow=1 keeps streaming' })
  async logs(@CurrentCustomerId() customerId: string, @Query(new ZodPipe(logsQuerySchema)) q: z.infer<typeof logsQuerySchema>, @Req() req: Request, @Res() res: Response) {
    const slot = await this.slot.current(customerId);
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    const chunks = this.slot.logs(customerId, slot, { tail: q.tail, follow: q.follow, signal: abort.signal });
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    try {
      for await (const c of chunks) res.write(c);
    } finally {
      res.end();
    }
  }

  @Get('billing')
  @ApiOperation({ summary: 'Monthly price: $29 base plus add-ons' })
  billing(@CurrentCustomerId() customerId: string) {
    return this.slot.billing(customerId);
  }
}
