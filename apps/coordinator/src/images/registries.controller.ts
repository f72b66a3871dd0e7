import { Body, Controller, Delete, Get, HttpCode, Param, Put, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiParam, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';
import { AuditRepository } from '../audit/audit.repository';
import { Auth } from '../auth/auth.guard';
import { ZodPipe } from '../common/validation';
import { registryCredentialSchema, registryParamsSchema, type RegistryCredentialBody } from './dto/registries.dto';
import { RegistryCredentialsService } from './registry-credentials.service';

const HOST_PARAM = { name: 'host', description: 'registry host[:port] as image references name it (docker.io for Docker Hub)', example: 'registry.example.com:5000' };

/** Operator endpoints for private image registries (BERTH_ADMIN_TOKEN). No answer carries a password. */
@ApiTags('admin')
@ApiBearerAuth()
@Auth('admin')
@Controller('api/admin/registries')
export class RegistriesController {
  constructor(
    private readonly credentials: RegistryCredentialsService,
    private readonly audit: AuditRepository,
  ) {}

  @Get()
  async list() {
    return { registries: await this.credentials.list() };
  }

  @Put(':host')
  @ApiParam(HOST_PARAM)
  @ApiBody({ schema: z.toJSONSchema(registryCredentialSchema, { io: 'input' }) as object })
  async put(@Param(new ZodPipe(registryParamsSchema)) { host }: { host: string }, @Body(new ZodPipe(registryCredentialSchema)) body: RegistryCredentialBody, @Req() req: Request) {
    const r = await this.credentials.put(host, body.username, body.password);
    await this.audit.record({ actor: 'admin', action: 'registry.put', target_type: 'registry', target_id: host, ip: req.ip, data: { username: body.username } });
    return r;
  }

  @Delete(':host')
  @ApiParam(HOST_PARAM)
  @HttpCode(204)
  async remove(@Param(new ZodPipe(registryParamsSchema)) { host }: { host: string }, @Req() req: Request) {
    await this.credentials.remove(host);
    await this.audit.record({ actor: 'admin', action: 'registry.delete', target_type: 'registry', target_id: host, ip: req.ip });
  }
}
