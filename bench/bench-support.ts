import { cpus, totalmem } from 'node:os';

/** Median, min, max and p95 of a list of millisecond timings. */
export interface Summary {
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly p95Ms: number;
}

/** The middle value of sorted numbers; with an even count, the mean of the two middle ones. */
function middle(sorted: readonly number[]): number {
  const half = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[half] : (sorted[half - 1] + sorted[half]) / 2;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    runs: sorted.length,
    medianMs: round(middle(sorted)),
    minMs: round(sorted[0]),
    maxMs: round(sorted[sorted.length - 1]),
    p95Ms: round(at(0.95)),
  };
}

/** Times `fn` `runs` times after `warmup` untimed calls. */
export async function time(fn: () => Promise<unknown>, runs: number, warmup = 3): Promise<Summary> {
  for (let i = 0; i < warmup; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return summarize(samples);
}

export function machine(): Record<string, unknown> {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform,
  };
}

/** Median, min and max of throughput samples (events per second). */
export interface RateSummary {
  readonly runs: number;
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export function summarizeRates(samples: readonly number[]): RateSummary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    runs: sorted.length,
    // Counts stay whole numbers; ratios and milliseconds keep three decimals.
    median: sorted.every(Number.isInteger)
      ? Math.round(middle(sorted))
      : Math.round(middle(sorted) * 1000) / 1000,
    min: sorted[0],
    max: sorted[sorted.length - 1],
  };
}

/** Percentiles of one distribution (milliseconds), nearest-rank. */
export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export function percentiles(samples: readonly number[]): Percentiles {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
  const round = (n: number) => Math.round(n * 100) / 100;
  return {
    count: sorted.length,
    p50: round(at(0.5)),
    p95: round(at(0.95)),
    p99: round(at(0.99)),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

export function median(values: readonly number[]): number {
  return summarizeRates(values).median;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `BENCH_<NAME>` as a number, or the default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number`);
  return value;
}

/** Runs `variants` `runs` times, rotating their order per run so that they share the noise. */
export async function interleaved<V>(
  variants: readonly V[],
  runs: number,
  measure: (variant: V, run: number) => Promise<void>,
): Promise<void> {
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < variants.length; i++) {
      await measure(variants[(i + run) % variants.length], run);
    }
  }
}

/** One target of issue #6, checked against a measured value. */
export interface TargetCheck {
  readonly scenario: string;
  readonly target: string;
  readonly measured: string;
  /** `met`, `MISSED`, or why it was not measured. */
  readonly verdict: string;
  /** Measured ÷ target: how far inside or outside. */
  readonly 'measured ÷ target': string;
}

/** What a scenario prints: its tables, a line or two, its targets and its rows of the table in docs/benchmarks.md. */
export interface ScenarioReport {
  readonly tables: Readonly<Record<string, Record<string, Record<string, unknown>>>>;
  readonly lines: readonly string[];
  readonly targets: readonly TargetCheck[];
  readonly readme: readonly ReadmeRow[];
}

/** A row of the table in docs/benchmarks.md: scenario, median, min, max, target. */
export type ReadmeRow = readonly [string, string, string, string, string];

/** A row of that table; the target cell lists each check as "target: met/**missed** (value, ratio)". */
export function readmeRow(
  scenario: string,
  median: string,
  min = '',
  max = '',
  targets: readonly TargetCheck[] = [],
): ReadmeRow {
  const verdicts = targets.map((t) =>
    t.verdict === 'met' || t.verdict === 'MISSED'
      ? `${t.target}: ${t.verdict === 'met' ? 'met' : '**missed**'} (${ratioOrValue(t)})`
      : `${t.target}: ${t.verdict}`,
  );
  return [scenario, median, min, max, verdicts.join('; ')];
}

/** Checks `value` against `limit`: at most (latency, memory) or at least (rates, ratios). */
export function checkTarget(check: {
  scenario: string;
  target: string;
  value: number;
  unit: string;
  limit: number;
  atMost: boolean;
}): TargetCheck {
  const { scenario, target, value, unit, limit, atMost } = check;
  const met = atMost ? value <= limit : value >= limit;
  const ratio = value / limit;
  return {
    scenario,
    target,
    measured: `${formatNumber(value)}${unit}`,
    verdict: met ? 'met' : 'MISSED',
    'measured ÷ target': `${ratio >= 10 ? ratio.toFixed(0) : ratio.toFixed(2)}×`,
  };
}

export function notMeasured(scenario: string, target: string, why: string): TargetCheck {
  return {
    scenario,
    target,
    measured: '-',
    verdict: `not measured: ${why}`,
    'measured ÷ target': '',
  };
}

/** A ratio target shows its measured ratio; any other, the value and its ratio to the target. */
function ratioOrValue(t: TargetCheck): string {
  return t.measured.endsWith('×') ? t.measured : `${t.measured}, ${t['measured ÷ target']}`;
}

/** 1,234 from 100 up (thousands separated, no decimals), 12.34 and 0.42 below. */
export function formatNumber(n: number): string {
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en');
  return String(Math.round(n * 100) / 100);
}

/** CPU microseconds per event: the bench's own process (the relay, in the drain), the machine's. */
export interface CpuPerEvent {
  readonly processMicros: number;
  readonly machineMicros: number;
}
