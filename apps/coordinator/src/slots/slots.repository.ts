import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.module';
import { toSlot, type SlotRecord } from '../slot-model';

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
