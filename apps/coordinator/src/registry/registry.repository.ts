import { Inject, Injectable } from '@nestjs/common';
import type { AgentManifest, AgentTemplateFiles } from '@berth/catalog';
import type { Prisma } from '../../../../prisma/generated/client/client';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.module';
import type { AgentTypePatch, AgentTypeRecord, LlmProviderPatch, LlmProviderRecord } from './registry.types';

type AgentRow = Prisma.AgentTypeGetPayload<object>;
const toAgent = (r: AgentRow): AgentTypeRecord => ({
  ...r,
  manifest: r.manifest as unknown as AgentManifest,
  template_files: (r.template_files as unknown as AgentTemplateFiles | null) ?? null,
  operator_overrides: r.operator_overrides ?? [],
});
/** The JSON columns as Prisma takes them. */
const json = (data: Partial<AgentTypeWrite>) => ({
  ...(data.manifest ? { manifest: data.manifest as unknown as Prisma.InputJsonValue } : {}),
  ...(data.template_files ? { template_files: data.template_files as unknown as Prisma.InputJsonValue } : {}),
});
const toProvider = (r: Prisma.LlmProviderGetPayload<object>): LlmProviderRecord => ({ ...r, operator_overrides: r.operator_overrides ?? [] });

export type AgentTypeWrite = Omit<AgentTypeRecord, 'created_at' | 'updated_at' | 'operator_overrides'>;
export type LlmProviderWrite = Omit<LlmProviderRecord, 'created_at' | 'updated_at' | 'operator_overrides'>;

@Injectable()
export class RegistryRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async listAgentTypes(): Promise<AgentTypeRecord[]> {
    return (await this.db.prisma.agentType.findMany({ orderBy: { id: 'asc' } })).map(toAgent);
  }

  async findAgentType(id: string): Promise<AgentTypeRecord | null> {
    const r = await this.db.prisma.agentType.findUnique({ where: { id } });
    return r ? toAgent(r) : null;
  }

  async listProviders(): Promise<LlmProviderRecord[]> {
    return (await this.db.prisma.llmProvider.findMany({ orderBy: { id: 'asc' } })).map(toProvider);
  }

  async findProvider(id: string): Promise<LlmProviderRecord | null> {
    const r = await this.db.prisma.llmProvider.findUnique({ where: { id } });
    return r ? toProvider(r) : null;
  }

  async createAgentType(data: AgentTypeWrite): Promise<void> {
    const { manifest: _m, template_files: _t, ...rest } = data;
    await this.db.prisma.agentType.create({ data: { ...rest, manifest: data.manifest as unknown as Prisma.InputJsonValue, ...json(data) } });
  }

  /** Updates catalogue-owned fields only; `fields` lists which keys of data to write. */
  async updateAgentTypeFromCatalogue(id: string, data: Partial<AgentTypeWrite>): Promise<void> {
    const { manifest: _m, template_files: _t, ...rest } = data;
    await this.db.prisma.agentType.update({ where: { id }, data: { ...rest, ...json(data) } });
  }

  async createProvider(data: LlmProviderWrite): Promise<void> {
    await this.db.prisma.llmProvider.create({ data });
  }

  async updateProviderFromCatalogue(id: string, data: Partial<LlmProviderWrite>): Promise<void> {
    await this.db.prisma.llmProvider.update({ where: { id }, data });
  }

  /** Operator change: writes the fields and records them as overridden, atomically. */
  async patchAgentType(id: string, patch: AgentTypePatch): Promise<AgentTypeRecord | null> {
    return this.db.prisma.$transaction(async (tx) => {
      const cur = await tx.agentType.findUnique({ where: { id } });
      if (!cur) return null;
      const overrides = [...new Set([...(cur.operator_overrides ?? []), ...Object.keys(patch)])].sort();
      return toAgent(await tx.agentType.update({ where: { id }, data: { ...patch, operator_overrides: overrides } }));
    });
  }

  async patchProvider(id: string, patch: LlmProviderPatch): Promise<LlmProviderRecord | null> {
    return this.db.prisma.$transaction(async (tx) => {
      const cur = await tx.llmProvider.findUnique({ where: { id } });
      if (!cur) return null;
      const overrides = [...new Set([...(cur.operator_overrides ?? []), ...Object.keys(patch)])].sort();
      return toProvider(await tx.llmProvider.update({ where: { id }, data: { ...patch, operator_overrides: overrides } }));
    });
  }
}
