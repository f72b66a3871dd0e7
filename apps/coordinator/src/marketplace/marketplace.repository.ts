import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.module';

@Injectable()
export class MarketplaceRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** Active slots (not terminated) per desired agent + provider. */
  async activeStacks(): Promise<{ agent_type_id: string; llm_provider_id: string; active_slots: number }[]> {
    const rows = await this.db.prisma.slot.groupBy({
      by: ['desired_agent_type_id', 'desired_llm_provider_id'],
      where: { state: { notIn: ['terminated'] } },
      _count: { _all: true },
    });
    return rows.map((r) => ({ agent_type_id: r.desired_agent_type_id, llm_provider_id: r.desired_llm_provider_id, active_slots: r._count._all }));
  }
}
