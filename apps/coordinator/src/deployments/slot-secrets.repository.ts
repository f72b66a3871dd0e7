import { Inject, Injectable } from '@nestjs/common';
import { DATABASE } from '../database/database.module';
import type { Database } from '../database/database';
import type { SealedSecret } from '../secrets/secrets.service';

/**
 * Writes of a slot's sealed secrets by the deployment flow: a switch parks the old LLM key
 * under `llm_key_previous` (for a rollback) and seals the new one as `llm_key`.
 * Rows are sealed with their kind in the AAD, so a kind is never renamed in place.
 */
@Injectable()
export class SlotSecretsRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async put(customerId: string, slotId: string, kind: string, sealed: SealedSecret): Promise<void> {
    const data = { ciphertext: new Uint8Array(sealed.ciphertext), iv: new Uint8Array(sealed.iv), tag: new Uint8Array(sealed.tag), key_hint: sealed.key_hint, key_id: sealed.key_id };
    await this.db.prisma.secret.upsert({
      where: { slot_id_kind: { slot_id: slotId, kind } },
      create: { customer_id: customerId, slot_id: slotId, kind, ...data },
      update: data,
    });
  }

  async remove(slotId: string, kind: string): Promise<void> {
    await this.db.prisma.secret.deleteMany({ where: { slot_id: slotId, kind } });
  }
}
