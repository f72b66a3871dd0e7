/**
 * A tiny benchmark harness. Every bench measures a ratio against a baseline measured in the
 * same run on the same machine, never an absolute time compared with a constant.
 *
 *   // bench/example.bench.ts
 *   export default defineBench({
 *     name: 'example',
 *     description: 'what is measured, against what',
 *     async run(ctx) {
 *       const ours = await measureRate(() => doIt(), { minMs: ctx.quick ? 200 : 2000 });
 *       const base = await measureRate(() => doItBare(), { minMs: ctx.quick ? 200 : 2000 });
 *       return {
 *         rows: [{ what: 'ours', 'ops/s': ours.perSecond }, { what: 'bare', 'ops/s': base.perSecond }],
 *         ratio: { value: base.perSecond / ours.perSecond, label: 'bare / ours' },
 *         target: { op: '<=', value: 1.2, why: 'ARCHITECTURE.md: at most 1.2x overhead' },
 *       };
 *     },
 *   });
 *
 * bench/run.ts finds every bench/*.bench.ts, runs them (or the ones named on the command line),
 * prints each result as a table and writes bench/results.json.
 */

export type Cell = string | number | boolean | null;
export type BenchRow = Record<string, Cell>;

export interface BenchRatio {
  value: number;
  /** How the ratio is formed, e.g. 'indexed / naive placements per second'. */
  label: string;
}

export interface BenchTarget {
  /** The ratio must be `op` value to meet the target. */
  op: '>=' | '<=';
  value: number;
  why: string;
}

export interface BenchResult {
  rows: BenchRow[];
  ratio: BenchRatio;
  target?: BenchTarget;
  /** Further figures of the same bench, each a ratio with its own target (all must be met). */
  more?: { ratio: BenchRatio; target?: BenchTarget }[];
  /** Free-text lines printed under the table (reference figures, caveats). */
  notes?: string[];
  /** Anything else worth keeping in results.json. */
  data?: Record<string, unknown>;
}

export interface BenchContext {
  /** --quick: shorter runs, noisier figures (for CI smoke runs). */
  quick: boolean;
  log(message: string): void;
}

export interface BenchDefinition {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<BenchResult>;
}

export function defineBench(def: BenchDefinition): BenchDefinition {
  if (!/^[a-z0-9-]+$/.test(def.name)) throw new Error(`bench name must be kebab-case: ${def.name}`);
  return def;
}

export function targetMet(result: Pick<BenchResult, 'ratio' | 'target' | 'more'>): boolean | undefined {
  const verdicts = [result, ...(result.more ?? [])].map(figureMet).filter((m) => m !== undefined);
  return verdicts.length ? verdicts.every(Boolean) : undefined;
}

/** Whether one figure meets its own target (undefined without one). */
export function figureMet(f: { ratio: BenchRatio; target?: BenchTarget }): boolean | undefined {
  const t = f.target;
  if (!t) return undefined;
  return t.op === '>=' ? f.ratio.value >= t.value : f.ratio.value <= t.value;
}

export interface Rate {
  ops: number;
  seconds: number;
  perSecond: number;
}

/**
 * Calls `fn` in a loop until `minMs` of it have elapsed (at least `minOps` calls), after
 * `warmupOps` untimed calls. For operations of a few microseconds, pass `batch` so the clock is
 * read once per batch. `fn` returns how many operations it did (default 1).
 */
export async function measureRate(
  fn: () => number | void | Promise<number | void>,
  opts: { minMs: number; minOps?: number; warmupOps?: number } = { minMs: 1000 },
): Promise<Rate> {
  for (let i = 0; i < (opts.warmupOps ?? 0); i++) await fn();
  let ops = 0;
  let elapsed = 0n;
  const minNs = BigInt(Math.round(opts.minMs * 1e6));
  const minOps = opts.minOps ?? 1;
  while (elapsed < minNs || ops < minOps) {
    const t0 = process.hrtime.bigint();
    const done = await fn();
    elapsed += process.hrtime.bigint() - t0;
    ops += typeof done === 'number' ? done : 1;
  }
  const seconds = Number(elapsed) / 1e9;
  return { ops, seconds, perSecond: ops / seconds };
}

/** Runs `work` untimed `setup` first each round; times only `work`. Returns ops per second over all rounds. */
export function measureRounds<S>(
  setup: () => S,
  work: (state: S) => number,
  opts: { minMs: number; minRounds?: number; warmupRounds?: number },
): Rate {
  for (let i = 0; i < (opts.warmupRounds ?? 1); i++) work(setup());
  let ops = 0;
  let rounds = 0;
  let elapsed = 0n;
  const minNs = BigInt(Math.round(opts.minMs * 1e6));
  while (elapsed < minNs || rounds < (opts.minRounds ?? 1)) {
    const state = setup();
    const t0 = process.hrtime.bigint();
    ops += work(state);
    elapsed += process.hrtime.bigint() - t0;
    rounds++;
  }
  const seconds = Number(elapsed) / 1e9;
  return { ops, seconds, perSecond: ops / seconds };
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

/** A plain-text table; numbers right-aligned. */
export function formatTable(rows: BenchRow[]): string {
  if (rows.length === 0) return '(no rows)';
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: Cell | undefined) =>
    v === undefined || v === null ? '' : typeof v === 'number' ? formatNumber(v) : String(v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const numeric = cols.map((c) => rows.every((r) => r[c] === undefined || typeof r[c] === 'number'));
  const line = (vals: string[]) =>
    vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ');
  return [
    line(cols),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map((r) => line(cols.map((c) => cell(r[c])))),
  ].join('\n');
}

/** Deterministic PRNG (mulberry32) so every run measures the same workload. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
