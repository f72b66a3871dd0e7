import { Inject, Injectable } from '@nestjs/common';
import { DATABASE } from '../database/database.module';
import type { Database } from '../database/database';

/** A registry credential as stored: the password only sealed. */
export interface StoredRegistryCredential {
  host: string;
  username: string;
  ciphertext: Buffer;
  iv: Buffer;
  tag: Buffer;
  key_id: string;
}

/** What may be shown of a credential: never the password, sealed or not. */
export interface RegistryCredentialListing {
  host: string;
  username: string;
  created_at: Date;
  updated_at: Date;
}

const LISTING = { host: true, username: true, created_at: true, updated_at: true } as const;

/** Registry credentials (table registry_credentials), one row per registry host. */
@Injectable()
export class RegistryCredentialsRepository {
  constructor(@Inject(DATABASE) private readonly db: Database) {}

  async put(c: StoredRegistryCredential): Promise<RegistryCredentialListing> {
    const { host, ...rest } = c;
    const data = { ...rest, ciphertext: new Uint8Array(c.ciphertext), iv: new Uint8Array(c.iv), tag: new Uint8Array(c.tag) };
    return this.db.prisma.registryCredential.upsert({ where: { host }, create: { host, ...data }, update: data, select: LISTING });
  }

  async list(): Promise<RegistryCredentialListing[]> {
    return this.db.prisma.registryCredential.findMany({ orderBy: { host: 'asc' }, select: LISTING });
  }

  async find(host: string): Promise<StoredRegistryCredential | null> {
    const r = await this.db.prisma.registryCredential.findUnique({ where: { host } });
    return r ? { host: r.host, username: r.username, ciphertext: Buffer.from(r.ciphertext), iv: Buffer.from(r.iv), tag: Buffer.from(r.tag), key_id: r.key_id } : null;
  }

  /** False when there was none. */
  async remove(host: string): Promise<boolean> {
    return (await this.db.prisma.registryCredential.deleteMany({ where: { host } })).count > 0;
  }
}
