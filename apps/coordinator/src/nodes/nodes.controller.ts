import { Body, Controller, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';
import { AuditRepository } from '../audit/audit.repository';
import { Auth } from '../auth/auth.guard';
import { ZodPipe } from '../common/validation';
import { createJoinTokenSchema, enrolSchema, type CreateJoinTokenBody, type EnrolBody } from './dto/nodes.dto';
import { NodesService } from './nodes.service';


/** Operator endpoints for the fleet (BERTH_ADMIN_TOKEN). */
@ApiTags('admin')
@ApiBearerAuth()
@Auth('admin')
@Controller('api/admin/nodes')
export class AdminNodesController {
  constructor(
    private readonly nodes: NodesService,
    private readonly audit: AuditRepository,
  ) {}

  @Post('join-tokens')
  @ApiBody({ schema: z.toJSONSchema(createJoinTokenSchema, { io: 'input' }) as object })
  async createJoinToken(@Body(new ZodPipe(createJoinTokenSchema)) body: CreateJoinTokenBody, @Req() req: Request) {
    const r = await this.nodes.createJoinToken({ description: body.description, ttlSeconds: body.ttl_seconds });
    await this.audit.record({ actor: 'admin', action: 'node.join_token.create', target_type: 'node_join_token', target_id: r.id, ip: req.ip, data: { expires_at: r.expires_at } });
    return r;
  }

  @Get()
  async list() {
    return { nodes: await this.nodes.list() };
  }

  @Get(':id')
  get(@Param('id') id: string) {
    return this.nodes.get(id);
  }

  @Post(':id/drain')
  @HttpCode(200)
  async drain(@Param('id') id: string, @Req() req: Request) {
    const r = await this.nodes.drain(id);
    await this.audit.record({ actor: 'admin', action: 'node.drain', target_type: 'node', target_id: id, ip: req.ip });
    return r;
  }

  @Post(':id/undrain')
  @HttpCode(200)
  async undrain(@Param('id') id: string, @Req() req: Request) {
    const r = await this.nodes.undrain(id);
    await this.audit.record({ actor: 'admin', action: 'node.undrain', target_type: 'node', target_id: id, ip: req.ip });
    return r;
  }
}

/** The node daemon's side: enrolment with a join token (no bearer; the join token is the credential). */
@ApiTags('nodes')
@Controller('api/nodes')
export class NodeEnrolmentController {
  constructor(
    private readonly nodes: NodesService,
    private readonly audit: AuditRepository,
  ) {}

  @Post('enrol')
  @HttpCode(201)
  @ApiBody({ schema: z.toJSONSchema(enrolSchema, { io: 'input' }) as object })
  async enrol(@Body(new ZodPipe(enrolSchema)) body: EnrolBody, @Req() req: Request) {
    const r = await this.nodes.enrol({
      joinToken: body.join_token,
      name: body.name,
      address: body.address,
      fingerprintSha256: body.tls_fingerprint_sha256,
      allocatableMemoryMb: body.allocatable_memory_mb,
      allocatableCpuMillis: body.allocatable_cpu_millis,
      portRangeFrom: body.port_range?.from,
      portRangeTo: body.port_range?.to,
      publicHost: body.public_host,
      labels: body.labels,
      agentVersion: body.agent_version,
    });
    await this.audit.record({ actor: `node:${r.node_id}`, action: 'node.enrol', target_type: 'node', target_id: r.node_id, ip: req.ip, data: { name: body.name, address: body.address } });
    return r;
  }
}
