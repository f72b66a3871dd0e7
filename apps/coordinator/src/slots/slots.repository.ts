import { Inject, Injectable } from '@nestjs/common';
import type { Prisma } from '../../../../prisma/generated/client/client';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.module';
import type { PublishedPort, SlotRecord, SlotState } from './slots.types';

type Row = Prisma.SlotGetPayload<object>;
export const toSlot = (r: Row): SlotRecord => ({
  id: r.id,
  customer_id: r.customer_id,
  plan: r.plan,
  addons: { memory: r.addon_memory, cpu: r.addon_cpu, priority_support: r.addon_priority_support },
  memory_mb: r.memory_mb,
  cpu_millis: r.cpu_millis,
  desired_agent_type_id: r.desired_agent_type_id,
  desired_llm_provider_id: r.desired_llm_provider_id,
  llm_base_url: r.llm_base_url,
  config: (r.config ?? {}) as Record<string, unknown>,
  current_agent_type_id: r.current_agent_type_id,
  current_agent_version: r.current_agent_version,
  state: r.state as SlotState,
  state_reason: r.state_reason,
  node_id: r.node_id,
  published_ports: (r.published_ports ?? []) as unknown as PublishedPort[],
  created_at: r.created_at,
  updated_at: r.updated_at,
  terminated_at: r.terminated_at,
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

@Injectable()
export class SlotsRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** Tenant-scoped: another customer's slot is simply not found. */
  async findForCustomer(customerId: string, slotId: string): Promise<SlotRecord | null> {
    if (!UUID.test(slotId)) return null;
    const r = await this.db.prisma.slot.findFirst({ where: { id: slotId, customer_id: customerId } });
    return r ? toSlot(r) : null;
  }

  async listForCustomer(customerId: string): Promise<SlotRecord[]> {
    return (await this.db.prisma.slot.findMany({ where: { customer_id: customerId }, orderBy: { created_at: 'asc' } })).map(toSlot);
  }

  /** System use (deploy pipeline): a slot by id, whoever owns it. */
  async findById(slotId: string): Promise<SlotRecord | null> {
    if (!UUID.test(slotId)) return null;
    const r = await this.db.prisma.slot.findUnique({ where: { id: slotId } });
    return r ? toSlot(r) : null;
  }
}
