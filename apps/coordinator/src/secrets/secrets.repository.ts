import { Inject, Injectable } from '@nestjs/common';
import { DATABASE } from '../database/database.module';
import type { Database } from '../database/database';
import type { SecretKind } from './secrets.service';

export interface StoredSecret {
  kind: SecretKind;
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  key_hint: string;
}

/** Encrypted secrets of a slot (for the deploy pipeline: decrypt with SecretsService.open + secretAad). */
@Injectable()
export class SecretsRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async findForSlot(customerId: string, slotId: string): Promise<StoredSecret[]> {
    const rows = await this.db.prisma.secret.findMany({ where: { customer_id: customerId, slot_id: slotId } });
    return rows.map((r) => ({ kind: r.kind as SecretKind, ciphertext: Buffer.from(r.ciphertext), iv: Buffer.from(r.iv), tag: Buffer.from(r.tag), key_hint: r.key_hint }));
  }

  /** Hints only: what an API answer may show. */
  async hintsForSlot(customerId: string, slotId: string): Promise<Record<string, string>> {
    const rows = await this.db.prisma.secret.findMany({ where: { customer_id: customerId, slot_id: slotId }, select: { kind: true, key_hint: true } });
    return Object.fromEntries(rows.map((r) => [r.kind, r.key_hint]));
  }
}
