import { Global, Inject, Injectable, Module } from '@nestjs/common';
import type { Prisma } from '../../../../prisma/generated/client/client';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.module';

export interface AuditEntry {
  actor: string;
  action: string;
  target_type?: string;
  target_id?: string;
  ip?: string;
  /** Never a secret: callers pass field names and non-secret values only. */
  data?: Record<string, unknown>;
}

@Injectable()
export class AuditRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async record(e: AuditEntry): Promise<void> {
    await this.db.prisma.auditEvent.create({ data: { ...e, data: e.data as Prisma.InputJsonValue | undefined } });
  }
}

@Global()
@Module({ providers: [AuditRepository], exports: [AuditRepository] })
export class AuditModule {}
