import { parsePrismaSchema, type ExpectedColumn, type ExpectedForeignKey, type ExpectedIndex } from './prisma-schema';
import { createTestDatabase, type TestDatabase } from './test-database';

/**
 * The migrations produce exactly the tables, columns, types, nullability, defaults, indexes
 * and foreign keys schema.prisma describes (and nothing more), on the database this pass uses.
 */
describe(`migrated database matches schema.prisma (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  let t: TestDatabase;
  const expected = parsePrismaSchema();
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(() => t.drop());

  const sortBy = <T>(xs: T[], key: (x: T) => string) => [...xs].sort((a, b) => key(a).localeCompare(key(b)));

  it('has the seed tables with the seed columns', () => {
    const cols = (table: string) => expected.columns.filter((c) => c.table === table).map((c) => c.column);
    expect(cols('agent_types')).toEqual(
      expect.arrayContaining(['id', 'name', 'description', 'language', 'base_image', 'internal_port', 'health_endpoint', 'min_memory', 'min_cpu', 'config_template', 'env_vars', 'is_active', 'created_at']),
    );
    expect(cols('llm_providers')).toEqual(expect.arrayContaining(['id', 'name', 'description', 'env_key', 'base_url', 'is_active']));
    expect(cols('customers')).toEqual(expect.arrayContaining(['agent_type_id', 'llm_provider_id', 'custom_config']));
  });

  it('tables', async () => {
    const rows = await t.db.sql.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_prisma_migrations'`,
    );
    expect(rows.map((r) => r.table_name).sort()).toEqual([...expected.tables].sort());
  });

  it('columns: types, nullability, defaults', async () => {
    const rows = await t.db.sql.query<{ table_name: string; column_name: string; data_type: string; udt_name: string; is_nullable: string; column_default: string | null; datetime_precision: number | null }>(
      `SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default, datetime_precision
         FROM information_schema.columns WHERE table_schema = current_schema() AND table_name <> '_prisma_migrations'`,
    );
    const actual: ExpectedColumn[] = rows.map((r) => {
      const c: ExpectedColumn = { table: r.table_name, column: r.column_name, dataType: r.data_type, nullable: r.is_nullable === 'YES', hasDefault: r.column_default !== null };
      if (r.data_type === 'ARRAY') c.udt = r.udt_name;
      if (r.data_type.startsWith('timestamp')) c.precision = r.datetime_precision ?? undefined;
      return c;
    });
    const key = (c: ExpectedColumn) => `${c.table}.${c.column}`;
    expect(sortBy(actual, key)).toEqual(sortBy(expected.columns, key));
  });

  it('primary keys, unique constraints and indexes', async () => {
    const rows = await t.db.sql.query<{ table_name: string; index_name: string; is_unique: boolean; columns: string }>(
      `SELECT t.relname AS table_name, i.relname AS index_name, ix.indisunique AS is_unique,
              string_agg(a.attname, ',' ORDER BY k.ord) AS columns
         FROM pg_index ix
         JOIN pg_class i ON i.oid = ix.indexrelid
         JOIN pg_class t ON t.oid = ix.indrelid
         JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = current_schema()
         CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE t.relname <> '_prisma_migrations'
        GROUP BY t.relname, i.relname, ix.indisunique`,
    );
    const actual: ExpectedIndex[] = rows.map((r) => ({ table: r.table_name, name: r.index_name, unique: r.is_unique, columns: r.columns.split(',') }));
    expect(sortBy(actual, (i) => i.name)).toEqual(sortBy(expected.indexes, (i) => i.name));
  });

  it('foreign keys and their delete rules', async () => {
    const rows = await t.db.sql.query<{ table_name: string; name: string; columns: string; ref_table: string; ref_columns: string; delete_rule: string }>(
      `SELECT c.conrelid::regclass::text AS table_name, c.conname AS name,
              (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS columns,
              c.confrelid::regclass::text AS ref_table,
              (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) AS ref_columns,
              CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT' WHEN 'a' THEN 'NO ACTION' ELSE 'SET DEFAULT' END AS delete_rule
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace AND n.nspname = current_schema()
        WHERE c.contype = 'f'`,
    );
    const strip = (s: string) => s.replace(/^"?[a-z0-9_]+"?\./, '').replace(/"/g, '');
    const actual: ExpectedForeignKey[] = rows.map((r) => ({
      table: strip(r.table_name), name: r.name, columns: r.columns.split(','), refTable: strip(r.ref_table), refColumns: r.ref_columns.split(','), onDelete: r.delete_rule,
    }));
    expect(sortBy(actual, (f) => f.name)).toEqual(sortBy(expected.foreignKeys, (f) => f.name));
  });

  it('the generated Prisma client reads and writes through the adapter', async () => {
    const p = t.db.prisma;
    await p.agentType.create({ data: { id: 'x', name: 'X' } });
    await p.llmProvider.create({ data: { id: 'y', name: 'Y' } });
    const c = await p.customer.create({ data: { email: 'a@b.c', password_hash: 'h', agent_type_id: 'x', llm_provider_id: 'y', custom_config: '{}' } });
    const s = await p.slot.create({ data: { customer_id: c.id, memory_mb: 512, cpu_millis: 250, desired_agent_type_id: 'x', desired_llm_provider_id: 'y' } });
    expect(s.state).toBe('pending');
    const at = await p.agentType.findUniqueOrThrow({ where: { id: 'x' } });
    expect(at.is_active).toBe(true);
    expect(at.operator_overrides).toEqual([]);
  });
});

describe('parsePrismaSchema', () => {
  it('refuses what it does not understand instead of guessing', () => {
    expect(() => parsePrismaSchema('model A {\n  id Decimal @id\n}\n')).toThrow(/unsupported type Decimal/);
    expect(() => parsePrismaSchema('model A {\n  id String @id @db.VarChar(3)\n}\n')).toThrow(/unsupported native type VarChar/);
  });
});
