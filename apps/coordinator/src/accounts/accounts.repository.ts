import { Inject, Injectable } from '@nestjs/common';
import { ConflictError } from '@berth/domain';
import type { Prisma } from '../../../../prisma/generated/client/client';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.module';
import type { SealedSecret, SecretKind } from '../secrets/secrets.service';
import { toSlot, type Addons, type SlotRecord } from '../slot-model';

export interface CustomerRecord {
  id: string;
  email: string;
  agent_type_id: string | null;
  llm_provider_id: string | null;
  custom_config: string | null;
  created_at: Date;
}

export interface NewAccount {
  customerId: string;
  slotId: string;
  email: string;
  passwordHash: string;
  agentTypeId: string;
  llmProviderId: string;
  llmBaseUrl: string | null;
  config: Record<string, unknown>;
  addons: Addons;
  memoryMb: number;
  cpuMillis: number;
  secrets: { kind: SecretKind; sealed: SealedSecret }[];
  tokenHash: string;
  tokenExpiresAt: Date;
}

const publicCustomer = { id: true, email: true, agent_type_id: true, llm_provider_id: true, custom_config: true, created_at: true } as const;

@Injectable()
export class AccountsRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async emailExists(email: string): Promise<boolean> {
    return (await this.db.prisma.customer.count({ where: { email } })) > 0;
  }

  /** Customer, slot, secrets and first token in one transaction: all or nothing. */
  async createAccount(a: NewAccount): Promise<{ customer: CustomerRecord; slot: SlotRecord }> {
    try {
      return await this.db.prisma.$transaction(async (tx) => {
        const customer = await tx.customer.create({
          data: {
            id: a.customerId,
            email: a.email,
            password_hash: a.passwordHash,
            agent_type_id: a.agentTypeId,
            llm_provider_id: a.llmProviderId,
            custom_config: JSON.stringify(a.config),
          },
          select: publicCustomer,
        });
        const slot = await tx.slot.create({
          data: {
            id: a.slotId,
            customer_id: a.customerId,
            addon_memory: a.addons.memory,
            addon_cpu: a.addons.cpu,
            addon_priority_support: a.addons.priority_support,
            memory_mb: a.memoryMb,
            cpu_millis: a.cpuMillis,
            desired_agent_type_id: a.agentTypeId,
            desired_llm_provider_id: a.llmProviderId,
            llm_base_url: a.llmBaseUrl,
            config: a.config as Prisma.InputJsonValue,
            state: 'pending',
            state_reason: 'waiting to be placed on a node',
          },
        });
        for (const s of a.secrets) {
          await tx.secret.create({
            data: {
              customer_id: a.customerId,
              slot_id: a.slotId,
              kind: s.kind,
              ciphertext: new Uint8Array(s.sealed.ciphertext),
              iv: new Uint8Array(s.sealed.iv),
              tag: new Uint8Array(s.sealed.tag),
              key_hint: s.sealed.key_hint,
              key_id: s.sealed.key_id,
            },
          });
        }
        await tx.apiToken.create({ data: { customer_id: a.customerId, token_hash: a.tokenHash, expires_at: a.tokenExpiresAt } });
        return { customer, slot: toSlot(slot) };
      });
    } catch (e) {
      if ((e as { code?: string }).code === 'P2002') throw new ConflictError('email already registered', { email: ['is already registered'] });
      throw e;
    }
  }

  async findCredentials(email: string): Promise<{ id: string; password_hash: string } | null> {
    return this.db.prisma.customer.findUnique({ where: { email }, select: { id: true, password_hash: true } });
  }

  async findCustomer(customerId: string): Promise<CustomerRecord | null> {
    return this.db.prisma.customer.findUnique({ where: { id: customerId }, select: publicCustomer });
  }
}
