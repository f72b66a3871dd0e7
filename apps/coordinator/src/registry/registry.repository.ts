import { Inject, Injectable } from '@nestjs/common';
import type { AgentManifest } from '@berth/catalog';
import type { Prisma } from '../../../../prisma/generated/client/client';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.module';
import type { AgentTypePatch, AgentTypeRecord, LlmProviderPatch, LlmProviderRecord } from './registry.types';

type AgentRow = Prisma.AgentTypeGetPayload<object>;
const toAgent = (r: AgentRow): AgentTypeRecord => ({ ...r, manifest: r.manifest as unknown as AgentManifest, operator_overrides: r.operator_overrides ?? [] });
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
    await this.db.prisma.agentType.create({ data: { ...data, manifest: data.manifest as unknown as Prisma.InputJsonValue } });
  }

  /** Updates catalogue-owned fields only; `fields` lists which keys of data to write. */
  async updateAgentTypeFromCatalogue(id: string, data: Partial<AgentTypeWrite>): Promise<void> {
    const { manifest, ...rest } = data;
    await this.db.prisma.agentType.update({ where: { id }, data: { ...rest, ...(manifest ? { manifest: manifest as unknown as Prisma.InputJsonValue } : {}) } });
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
