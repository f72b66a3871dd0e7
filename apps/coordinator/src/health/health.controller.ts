import { Controller, Get, Res } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { HealthRepository } from './health.repository';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(private readonly repo: HealthRepository) {}

  @Get('healthz')
  healthz() {
    return { status: 'ok' };
  }

  @Get('readyz')
  async readyz(@Res({ passthrough: true }) res: Response) {
    try {
      await this.repo.ping();
      return { status: 'ready', database: 'ok' };
    } catch {
      res.status(503);
      return { status: 'not ready', database: 'unreachable' };
    }
  }
}
