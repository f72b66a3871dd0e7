import { Body, Controller, Get, HttpCode, Param, Patch, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { z } from 'zod';
import { AuditRepository } from '../audit/audit.repository';
import { Auth } from '../auth/auth.guard';
import { ZodPipe } from '../common/validation';
import { ImageDigestsService } from '../images/image-digests.service';
import { agentTypeDefinitionSchema, type AgentTypeDefinition } from '../registry/agent-type-definition';
import { RegistryService } from '../registry/registry.service';
import type { AgentTypePatch, LlmProviderPatch } from '../registry/registry.types';
import { agentTypePatchSchema, llmProviderPatchSchema } from './dto/admin.dto';

/** Operator endpoints (BERTH_ADMIN_TOKEN). Customers get 403. */
@ApiTags('admin')
@ApiBearerAuth()
@Auth('admin')
@Controller('api/admin')
export class AdminController {
  constructor(
    private readonly registry: RegistryService,
    private readonly audit: AuditRepository,
    private readonly images: ImageDigestsService,
  ) {}

  @Get('agent-types')
  async agentTypes() {
    return { agent_types: await this.images.forAgentTypes(await this.registry.listAgentTypes()) };
  }

  /** A community agent type: a manifest and its template files, checked like a catalogue folder (docs/agents.md). */
  @Post('agent-types')
  @HttpCode(201)
  @ApiBody({ schema: z.toJSONSchema(agentTypeDefinitionSchema, { io: 'input' }) as object })
  async createAgentType(@Body(new ZodPipe(agentTypeDefinitionSchema)) def: AgentTypeDefinition, @Req() req: Request) {
    const r = await this.registry.createAgentType(def);
    await this.audit.record({ actor: 'admin', action: 'agent_type.create', target_type: 'agent_type', target_id: r.id, ip: req.ip, data: { version: r.version, base_image: r.base_image } });
    return r;
  }

  @Patch('agent-types/:id')
  @ApiBody({ schema: z.toJSONSchema(agentTypePatchSchema, { io: 'input' }) as object })
  async patchAgentType(@Param('id') id: string, @Body(new ZodPipe(agentTypePatchSchema)) patch: AgentTypePatch, @Req() req: Request) {
    const r = await this.registry.patchAgentType(id, patch);
    await this.audit.record({ actor: 'admin', action: 'agent_type.patch', target_type: 'agent_type', target_id: id, ip: req.ip, data: patch });
    return r;
  }

  @Get('llm-providers')
  async providers() {
    return { llm_providers: await this.registry.listProviders() };
  }

  @Patch('llm-providers/:id')
  @ApiBody({ schema: z.toJSONSchema(llmProviderPatchSchema, { io: 'input' }) as object })
  async patchProvider(@Param('id') id: string, @Body(new ZodPipe(llmProviderPatchSchema)) patch: LlmProviderPatch, @Req() req: Request) {
    const r = await this.registry.patchProvider(id, patch);
    await this.audit.record({ actor: 'admin', action: 'llm_provider.patch', target_type: 'llm_provider', target_id: id, ip: req.ip, data: patch });
    return r;
  }
}
