import { Injectable } from '@nestjs/common';
import { SecretsRepository } from '../secrets/secrets.repository';
import { SecretsService, secretAad, secretHint, type SecretKind } from '../secrets/secrets.service';
import { SlotSecretsRepository } from './slot-secrets.repository';

type SlotRef = { id: string; customer_id: string };

/**
 * The secrets a switch may replace, and where the old value waits meanwhile. `replaced`: the switch
 * says the whole value, none included (a custom image's registry credentials belong to that image:
 * a switch without them leaves the slot with none); else a switch without a value keeps the old one.
 */
const SWITCHED: readonly { kind: SecretKind; parked: string; replaced?: true }[] = [
  { kind: 'llm_key', parked: 'llm_key_previous' },
  { kind: 'telegram_token', parked: 'telegram_token_previous' },
  { kind: 'registry_auth', parked: 'registry_auth_previous', replaced: true },
];

/**
 * A slot's keys across a switch. The switch seals the new LLM key (and Telegram token) as the
 * slot's own and parks the old values; success forgets the parked values; failure puts them
 * back before the rollback deployment renders, so the previous agent runs with its own keys.
 * A parked empty value means "there was none". Each row is sealed with its kind in the AAD,
 * so moving a value means open + seal, never renaming a row.
 */
@Injectable()
export class SlotKeys {
  constructor(
    private readonly stored: SecretsRepository,
    private readonly writes: SlotSecretsRepository,
    private readonly secrets: SecretsService,
  ) {}

  private async opened(slot: SlotRef): Promise<Map<string, string>> {
    const rows = await this.stored.findForSlot(slot.customer_id, slot.id);
    return new Map(rows.map((r) => [r.kind as string, this.secrets.open(r, secretAad(slot.id, r.kind))]));
  }

  private async put(slot: SlotRef, kind: string, plaintext: string): Promise<void> {
    await this.writes.put(slot.customer_id, slot.id, kind, this.secrets.seal(plaintext, secretAad(slot.id, kind as SecretKind), secretHint(kind, plaintext)));
  }

  /** Before a switch: park what the new values replace, then seal the new ones (`registryAuth`: JSON, or null for none). */
  async beginSwitch(slot: SlotRef, newKey: string | null, newTelegramToken?: string | null, registryAuth: string | null = null): Promise<void> {
    const current = await this.opened(slot);
    const incoming: Record<string, string | null | undefined> = { llm_key: newKey, telegram_token: newTelegramToken, registry_auth: registryAuth };
    for (const { kind, parked, replaced } of SWITCHED) {
      await this.put(slot, parked, current.get(kind) ?? '');
      const value = incoming[kind];
      if (value) await this.put(slot, kind, value);
      else if (replaced) await this.writes.remove(slot.id, kind);
    }
  }

  async forgetPrevious(slot: SlotRef): Promise<void> {
    for (const { parked } of SWITCHED) await this.writes.remove(slot.id, parked);
  }

  /** After a failed switch: the parked values become the slot's again. */
  async restorePrevious(slot: SlotRef): Promise<void> {
    const current = await this.opened(slot);
    for (const { kind, parked } of SWITCHED) {
      if (!current.has(parked)) continue;
      const previous = current.get(parked)!;
      if (previous) await this.put(slot, kind, previous);
      else await this.writes.remove(slot.id, kind);
      await this.writes.remove(slot.id, parked);
    }
  }
}
