import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { Pool } from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../../../../prisma/generated/client/client';
import type { SqlRunner } from './sql-runner';

export { PrismaClient };
export type DatabaseKind = 'pglite' | 'postgres';

export interface Database {
  kind: DatabaseKind;
  prisma: PrismaClient;
  sql: SqlRunner;
  /** Where PGlite keeps its files (undefined for PostgreSQL or in-memory PGlite). */
  dataDir?: string;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://... switches to PostgreSQL; unset means embedded PGlite. */
  databaseUrl?: string;
  /** PGlite data directory; undefined means in memory. */
  pgliteDir?: string;
  /** PostgreSQL schema (search_path) to use; default public. Tests use one per file. */
  schema?: string;
}

/** Opens the database the configuration names. Nothing else in the app constructs a client. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.databaseUrl) {
    const schema = opts.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`bad schema name '${schema}'`);
    const pool = new Pool({ connectionString: opts.databaseUrl, options: `-c search_path="${schema}"`, max: 10 });
    pool.on('error', () => undefined); // idle-client errors surface on the next query instead of crashing
    const prisma = new PrismaClient({ adapter: new PrismaPg(pool, { schema }) });
    const sql: SqlRunner = {
      exec: async (text) => {
        await pool.query(text);
      },
      query: async <T>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as T[],
    };
    return {
      kind: 'postgres',
      prisma,
      sql,
      close: async () => {
        await prisma.$disconnect();
        await pool.end();
      },
    };
  }
  if (opts.pgliteDir) mkdirSync(opts.pgliteDir, { recursive: true, mode: 0o700 });
  const pglite = new PGlite(opts.pgliteDir);
  await pglite.waitReady;
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite) });
  const sql: SqlRunner = {
    exec: async (text) => {
      await pglite.exec(text);
    },
    query: async <T>(text: string, params?: unknown[]) => (await pglite.query<T>(text, params)).rows,
  };
  return {
    kind: 'pglite',
    prisma,
    sql,
    dataDir: opts.pgliteDir,
    close: async () => {
      await prisma.$disconnect();
      if (!pglite.closed) await pglite.close();
    },
  };
}

/** The PGlite directory inside BERTH_DATA_DIR. */
export function pgliteDirFor(dataDir: string): string {
  return join(dataDir, 'pgdata');
}
