import { Injectable } from '@nestjs/common';
import { SecretsRepository } from '../secrets/secrets.repository';
import { SecretsService, secretAad, type SecretKind } from '../secrets/secrets.service';
import { SlotSecretsRepository } from './slot-secrets.repository';

type SlotRef = { id: string; customer_id: string };

/**
 * The LLM key across a switch: the old key is parked as `llm_key_previous` so a rollback can
 * use it; success forgets it, a rollback puts it back. Each row is sealed with its kind in
 * the AAD, so moving a key means open + seal, never renaming a row.
 */
@Injectable()
export class SlotKeys {
  constructor(
    private readonly stored: SecretsRepository,
    private readonly writes: SlotSecretsRepository,
    private readonly secrets: SecretsService,
  ) {}

  private async open(slot: SlotRef, kind: string): Promise<string | null> {
    const s = (await this.stored.findForSlot(slot.customer_id, slot.id)).find((x) => (x.kind as string) === kind);
    return s ? this.secrets.open(s, secretAad(slot.id, kind as SecretKind)) : null;
  }

  private async put(slot: SlotRef, kind: string, plaintext: string): Promise<void> {
    await this.writes.put(slot.customer_id, slot.id, kind, this.secrets.seal(plaintext, secretAad(slot.id, kind as SecretKind)));
  }

  /** Before a switch: park the current key, seal the new one (when given) as the slot's key. */
  async beginSwitch(slot: SlotRef, newKey: string | null, newTelegramToken?: string | null): Promise<void> {
    const current = await this.open(slot, 'llm_key');
    if (current) await this.put(slot, 'llm_key_previous', current);
    if (newKey) await this.put(slot, 'llm_key', newKey);
    if (newTelegramToken) await this.put(slot, 'telegram_token', newTelegramToken);
  }

  async forgetPrevious(slot: SlotRef): Promise<void> {
    await this.writes.remove(slot.id, 'llm_key_previous');
  }

  async restorePrevious(slot: SlotRef): Promise<void> {
    const previous = await this.open(slot, 'llm_key_previous');
    if (previous) await this.put(slot, 'llm_key', previous);
    await this.writes.remove(slot.id, 'llm_key_previous');
  }
}
