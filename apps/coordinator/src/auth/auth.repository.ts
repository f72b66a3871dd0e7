import { Inject, Injectable } from '@nestjs/common';
import type { Database } from '../database/database';
import { DATABASE } from '../database/database.module';

@Injectable()
export class AuthRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  /** The customer a live (not revoked, not expired) token belongs to. */
  async customerForToken(tokenHash: string, now: Date): Promise<string | null> {
    const t = await this.db.prisma.apiToken.findUnique({ where: { token_hash: tokenHash }, select: { customer_id: true, revoked_at: true, expires_at: true } });
    if (!t || t.revoked_at || (t.expires_at && t.expires_at <= now)) return null;
    return t.customer_id;
  }

  async createToken(customerId: string, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.db.prisma.apiToken.create({ data: { customer_id: customerId, token_hash: tokenHash, expires_at: expiresAt } });
  }

  async revokeToken(customerId: string, tokenHash: string): Promise<void> {
    await this.db.prisma.apiToken.updateMany({ where: { customer_id: customerId, token_hash: tokenHash, revoked_at: null }, data: { revoked_at: new Date() } });
  }
}
