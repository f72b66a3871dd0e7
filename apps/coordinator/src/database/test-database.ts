import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { openDatabase, type Database } from './database';
import { migrate } from './migrator';

/**
 * For tests: a migrated, empty database of its own. PGlite in memory (or in `pgliteDir`)
 * unless DATABASE_URL is set; then a uniquely named schema on that server, dropped by
 * `drop()`, so both CI passes and parallel files can share one PostgreSQL.
 */
export interface TestDatabase {
  db: Database;
  databaseUrl?: string;
  schema?: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(opts: { pgliteDir?: string; migrateNow?: boolean } = {}): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  const quiet = { log: () => undefined, warn: () => undefined };
  if (!url) {
    const db = await openDatabase({ pgliteDir: opts.pgliteDir });
    if (opts.migrateNow !== false) await migrate(db.sql, quiet);
    return { db, drop: () => db.close() };
  }
  const schema = `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new Pool({ connectionString: url, max: 1 });
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const db = await openDatabase({ databaseUrl: url, schema });
  if (opts.migrateNow !== false) await migrate(db.sql, quiet);
  return {
    db,
    databaseUrl: url,
    schema,
    drop: async () => {
      await db.close();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}
