/**
 * Entry for `npm run bench` (node -r @swc-node/register bench/run.ts).
 *
 *   npm run bench                      every bench/*.bench.ts, in name order
 *   npm run bench -- placement         only the named bench(es)
 *   npm run bench -- --list            names and descriptions
 *   npm run bench -- --quick           shorter runs (noisier), e.g. for CI smoke
 *   npm run bench -- --strict          exit 1 when a bench misses its target
 *
 * Each run overwrites bench/results.json (gitignored) with the machine, the commit and every
 * result, so figures can be compared between runs and machines.
 */
import { execSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BenchDefinition, BenchRatio, BenchTarget, figureMet, formatNumber, formatTable, targetMet } from './harness';

const BENCH_DIR = __dirname;
const SUFFIX = '.bench.ts';

function discover(): BenchDefinition[] {
  return readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith(SUFFIX))
    .sort()
    .map((f) => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(path.join(BENCH_DIR, f)) as { default?: BenchDefinition };
      const def = mod.default;
      if (!def || typeof def.run !== 'function')
        throw new Error(`${f} must export default defineBench({ ... })`);
      if (`${def.name}${SUFFIX}` !== f)
        throw new Error(`${f} defines bench '${def.name}'; the file must be named ${def.name}${SUFFIX}`);
      return def;
    });
}

function gitCommit(): string | null {
  try {
    return execSync('git rev-parse --short HEAD', { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

function machine() {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 1024 ** 3),
    platform: `${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

function verdict(f: { ratio: BenchRatio; target?: BenchTarget }): string {
  const met = figureMet(f);
  if (met === undefined || !f.target) return '';
  return `  target ${f.target.op} ${f.target.value} (${f.target.why}): ${met ? 'met' : 'MISSED'}`;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const names = args.filter((a) => !a.startsWith('--'));
  const all = discover();
  if (flags.has('--list')) {
    for (const b of all) console.log(`${b.name.padEnd(20)} ${b.description}`);
    return 0;
  }
  const unknown = names.filter((n) => !all.some((b) => b.name === n));
  if (unknown.length > 0) {
    console.error(`unknown bench: ${unknown.join(', ')} (have: ${all.map((b) => b.name).join(', ')})`);
    return 2;
  }
  const selected = names.length > 0 ? all.filter((b) => names.includes(b.name)) : all;
  const quick = flags.has('--quick');
  const info = machine();
  console.log(
    `berth bench · ${info.cpus} × ${info.cpuModel} · ${info.memoryGiB} GiB · node ${info.node}${quick ? ' · quick' : ''}\n`,
  );

  const results: Record<string, unknown> = {};
  let missed = 0;
  let failed = 0;
  for (const bench of selected) {
    console.log(`== ${bench.name}: ${bench.description}`);
    const started = Date.now();
    try {
      const result = await bench.run({ quick, log: (m) => console.log(`   ${m}`) });
      const met = targetMet(result);
      if (met === false) missed++;
      console.log(formatTable(result.rows));
      for (const f of [result, ...(result.more ?? [])]) {
        console.log(`\n  ratio: ${formatNumber(f.ratio.value)}x (${f.ratio.label})`);
        const v = verdict(f);
        if (v) console.log(v);
      }
      for (const note of result.notes ?? []) console.log(`  ${note}`);
      console.log('');
      results[bench.name] = { ...result, met, durationMs: Date.now() - started };
    } catch (e) {
      failed++;
      console.error(`  FAILED: ${(e as Error).stack ?? e}\n`);
      results[bench.name] = { error: String(e), durationMs: Date.now() - started };
    }
  }

  const out = path.join(BENCH_DIR, 'results.json');
  const report = {
    startedAt: new Date().toISOString(),
    commit: gitCommit(),
    quick,
    machine: info,
    benches: results,
  };
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  console.log(`results written to ${path.relative(process.cwd(), out)}`);
  if (failed > 0) return 1;
  return flags.has('--strict') && missed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
