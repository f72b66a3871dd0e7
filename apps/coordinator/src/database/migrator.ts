import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SqlRunner } from './sql-runner';

/**
 * Applies prisma/migrations/<name>/migration.sql in name order and records each in
 * _prisma_migrations exactly as `prisma migrate deploy` does (same table, same columns,
 * checksum = sha256 hex of the file), so either tool can take over from the other.
 * See docs/adr/0002-database-and-migrations.md.
 */
export interface MigrationLog {
  warn(message: string): void;
  log(message: string): void;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
}

/** Same advisory lock id as Prisma's schema engine, so the two never run at once. */
const PRISMA_ADVISORY_LOCK = 72707369;

const CREATE_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

export function defaultMigrationsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 7; i++) {
    const candidate = join(dir, 'prisma', 'migrations');
    if (existsSync(join(candidate, 'migration_lock.toml'))) return candidate;
    dir = resolve(dir, '..');
  }
  return resolve(process.cwd(), 'prisma', 'migrations');
}

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir: string = defaultMigrationsDir()): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, 'migration.sql')))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const bytes = readFileSync(join(dir, name, 'migration.sql'));
      return { name, sql: bytes.toString('utf8'), checksum: createHash('sha256').update(bytes).digest('hex') };
    });
}

interface Row {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

export async function migrate(sql: SqlRunner, log: MigrationLog, dir: string = defaultMigrationsDir()): Promise<MigrationResult> {
  const files = readMigrations(dir);
  await sql.query('SELECT pg_advisory_lock($1)', [PRISMA_ADVISORY_LOCK]);
  try {
    await sql.exec(CREATE_TABLE);
    const rows = await sql.query<Row>(
      'SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" WHERE rolled_back_at IS NULL ORDER BY started_at',
    );
    const failed = rows.find((r) => r.finished_at === null);
    if (failed) {
      throw new Error(
        `migration ${failed.migration_name} failed earlier and is not finished; fix the database, then mark it rolled back ` +
          `(npx prisma migrate resolve --rolled-back ${failed.migration_name}) before starting again`,
      );
    }
    const done = new Map(rows.map((r) => [r.migration_name, r]));
    const result: MigrationResult = { applied: [], alreadyApplied: [] };
    for (const file of files) {
      const row = done.get(file.name);
      if (row) {
        if (row.checksum !== file.checksum) log.warn(`migration ${file.name} was modified after it was applied (checksum differs)`);
        result.alreadyApplied.push(file.name);
        continue;
      }
      const id = randomUUID();
      await sql.query('INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)', [
        id,
        file.checksum,
        file.name,
      ]);
      try {
        await sql.exec(`BEGIN;\n${file.sql}\n;COMMIT;`);
      } catch (e) {
        await sql.exec('ROLLBACK').catch(() => undefined);
        await sql.query('UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1', [id, String((e as Error).message)]);
        throw new Error(`migration ${file.name} failed: ${(e as Error).message}`, { cause: e });
      }
      await sql.query('UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1', [id]);
      log.log(`applied migration ${file.name}`);
      result.applied.push(file.name);
    }
    const known = new Set(files.map((f) => f.name));
    for (const name of done.keys()) if (!known.has(name)) log.warn(`database has migration ${name}, which is not in ${dir}`);
    return result;
  } finally {
    await sql.query('SELECT pg_advisory_unlock($1)', [PRISMA_ADVISORY_LOCK]);
  }
}
