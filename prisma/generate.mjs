#!/usr/bin/env node
// Generates the Prisma client into prisma/generated/client (npm run db:generate; runs on postinstall).
// `prisma generate` does not need the schema engine, but Prisma 7's CLI looks for its binary and
// would try to download it; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing file keeps it offline.
// See docs/adr/0002-database-and-migrations.md.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);
const root = join(dirname(self), '..');
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
if (!env.PRISMA_SCHEMA_ENGINE_BINARY) env.PRISMA_SCHEMA_ENGINE_BINARY = self;
const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
execFileSync(process.execPath, [cli, 'generate', '--schema', join(root, 'prisma', 'schema.prisma')], { cwd: root, env, stdio: 'inherit' });
