import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultMigrationsDir } from './migrator';

/**
 * A small, strict reader of the subset of schema.prisma this project uses, turning it into
 * the PostgreSQL objects Prisma would create (names and types by Prisma's conventions).
 * Used by the test that proves the migrations produce exactly what schema.prisma says:
 * `prisma migrate diff` needs the schema engine binary, which cannot be downloaded here
 * (docs/adr/0002-database-and-migrations.md). Anything it does not understand throws.
 */
export interface ExpectedColumn {
  table: string;
  column: string;
  /** information_schema.columns.data_type, or 'ARRAY' with udt e.g. '_text'. */
  dataType: string;
  udt?: string;
  nullable: boolean;
  hasDefault: boolean;
  precision?: number;
}
export interface ExpectedIndex {
  table: string;
  name: string;
  unique: boolean;
  columns: string[];
}
export interface ExpectedForeignKey {
  table: string;
  name: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
}
export interface ExpectedSchema {
  tables: string[];
  columns: ExpectedColumn[];
  indexes: ExpectedIndex[];
  foreignKeys: ExpectedForeignKey[];
}

export function schemaPrismaPath(): string {
  return join(defaultMigrationsDir(), '..', 'schema.prisma');
}

const scalar: Record<string, { dataType: string; udt?: string }> = {
  String: { dataType: 'text' },
  Int: { dataType: 'integer' },
  BigInt: { dataType: 'bigint' },
  Boolean: { dataType: 'boolean' },
  DateTime: { dataType: 'timestamp without time zone' },
  Json: { dataType: 'jsonb' },
  Bytes: { dataType: 'bytea' },
};
const nativeTypes: Record<string, string> = { Uuid: 'uuid', Timestamptz: 'timestamp with time zone' };
const deleteRules: Record<string, string> = { Cascade: 'CASCADE', SetNull: 'SET NULL', Restrict: 'RESTRICT', NoAction: 'NO ACTION' };
const list = (s: string) => s.split(',').map((x) => x.trim().replace(/^"|"$/g, '')).filter(Boolean);

export function parsePrismaSchema(text: string = readFileSync(schemaPrismaPath(), 'utf8')): ExpectedSchema {
  const clean = text.replace(/\/\/.*$/gm, '');
  const models = [...clean.matchAll(/^model\s+(\w+)\s*\{([\s\S]*?)^\}/gm)].map((m) => ({ name: m[1], body: m[2] }));
  const tableOf = new Map(models.map((m) => [m.name, /@@map\("([^"]+)"\)/.exec(m.body)?.[1] ?? m.name]));
  const out: ExpectedSchema = { tables: [], columns: [], indexes: [], foreignKeys: [] };
  for (const model of models) {
    const table = tableOf.get(model.name)!;
    out.tables.push(table);
    for (const raw of model.body.split('\n').map((l) => l.trim()).filter(Boolean)) {
      if (raw.startsWith('@@')) {
        const block = /^@@(unique|index|map|id)\(\[?([^\])]*)\]?/.exec(raw);
        if (!block) throw new Error(`${model.name}: unsupported block attribute '${raw}'`);
        if (block[1] === 'map') continue;
        const cols = list(block[2]);
        if (block[1] === 'id') {
          out.indexes.push({ table, name: `${table}_pkey`, unique: true, columns: cols });
          continue;
        }
        out.indexes.push({ table, name: `${table}_${cols.join('_')}_${block[1] === 'unique' ? 'key' : 'idx'}`, unique: block[1] === 'unique', columns: cols });
        continue;
      }
      const f = /^(\w+)\s+(\w+)(\[\]|\?)?\s*(.*)$/.exec(raw);
      if (!f) throw new Error(`${model.name}: cannot read '${raw}'`);
      const [, name, type, modifier, attrs] = f;
      if (tableOf.has(type)) {
        const rel = /@relation\(([^)]*fields:[^)]*)\)/.exec(attrs);
        if (!rel) continue; // back-relation side
        const fields = list(/fields:\s*\[([^\]]*)\]/.exec(rel[1])![1]);
        const refs = list(/references:\s*\[([^\]]*)\]/.exec(rel[1])![1]);
        const onDelete = /onDelete:\s*(\w+)/.exec(rel[1])?.[1] ?? (modifier === '?' ? 'SetNull' : 'Restrict');
        out.foreignKeys.push({ table, name: `${table}_${fields.join('_')}_fkey`, columns: fields, refTable: tableOf.get(type)!, refColumns: refs, onDelete: deleteRules[onDelete] });
        continue;
      }
      const base = scalar[type];
      if (!base) throw new Error(`${model.name}.${name}: unsupported type ${type}`);
      if (/@map\(/.test(attrs)) throw new Error(`${model.name}.${name}: @map on fields is not supported by this reader`);
      const native = /@db\.(\w+)(?:\((\d+)\))?/.exec(attrs);
      let dataType = base.dataType;
      let precision: number | undefined = type === 'DateTime' ? 3 : undefined;
      if (native) {
        if (!nativeTypes[native[1]]) throw new Error(`${model.name}.${name}: unsupported native type ${native[1]}`);
        dataType = nativeTypes[native[1]];
        if (native[2]) precision = Number(native[2]);
      }
      const def = /@default\(((?:[^()]|\([^()]*\))*)\)/.exec(attrs)?.[1];
      const col: ExpectedColumn = {
        table,
        column: name,
        dataType: modifier === '[]' ? 'ARRAY' : dataType,
        nullable: modifier === '?' || modifier === '[]',
        hasDefault: def !== undefined && def !== 'uuid()' && def !== 'cuid()',
      };
      if (modifier === '[]') col.udt = `_${dataType === 'text' ? 'text' : dataType}`;
      if (precision !== undefined) col.precision = precision;
      out.columns.push(col);
      if (/@id\b/.test(attrs)) out.indexes.push({ table, name: `${table}_pkey`, unique: true, columns: [name] });
      if (/@unique\b/.test(attrs)) out.indexes.push({ table, name: `${table}_${name}_key`, unique: true, columns: [name] });
    }
  }
  return out;
}
