import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultMigrationsDir, migrate, readMigrations } from './migrator';
import { createTestDatabase, type TestDatabase } from './test-database';

describe(`migrator (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let t: TestDatabase;
  const quiet = { log: jest.fn(), warn: jest.fn() };
  beforeAll(async () => {
    t = await createTestDatabase({ migrateNow: false });
  });
  afterAll(() => t.drop());

  it('applies every migration once and records it like prisma migrate deploy', async () => {
    const first = await migrate(t.db.sql, quiet);
    const files = readMigrations();
    expect(first.applied).toEqual(files.map((f) => f.name));
    const rows = await t.db.sql.query<Record<string, unknown>>('SELECT * FROM "_prisma_migrations" ORDER BY migration_name');
    expect(rows).toHaveLength(files.length);
    const name = files[0].name;
    const expectedChecksum = createHash('sha256').update(readFileSync(join(defaultMigrationsDir(), name, 'migration.sql'))).digest('hex');
    expect(rows[0]).toMatchObject({ migration_name: name, checksum: expectedChecksum, applied_steps_count: 1, logs: null, rolled_back_at: null });
    expect(rows[0].finished_at).toBeInstanceOf(Date);
    expect(String(rows[0].id)).toMatch(/^[0-9a-f-]{36}$/);
    const cols = await t.db.sql.query<{ column_name: string }>(
      `SELECT column_name FROM information_schema.columns WHERE table_name = '_prisma_migrations' AND table_schema = current_schema() ORDER BY ordinal_position`,
    );
    expect(cols.map((c) => c.column_name)).toEqual([
      'id', 'checksum', 'finished_at', 'migration_name', 'logs', 'rolled_back_at', 'started_at', 'applied_steps_count',
    ]);

    const second = await migrate(t.db.sql, quiet);
    expect(second.applied).toEqual([]);
    expect(second.alreadyApplied).toEqual(first.applied);
  });

  it('refuses to start over a failed migration', async () => {
    await t.db.sql.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, applied_steps_count) VALUES ('00000000-0000-0000-0000-000000000001', 'x', '29990101000000_broken', 0)`,
    );
    await expect(migrate(t.db.sql, quiet)).rejects.toThrow(/29990101000000_broken failed earlier/);
    await t.db.sql.query(`UPDATE "_prisma_migrations" SET rolled_back_at = now() WHERE migration_name = '29990101000000_broken'`);
    await expect(migrate(t.db.sql, quiet)).resolves.toBeDefined();
  });
});
