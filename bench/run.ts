import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine } from './bench-support.js';
import { benchHealthProbe } from './health-probe.bench.js';

/**
 * `npm run bench`: runs every scenario against the machine's services, prints a table and
 * writes bench/results/latest.json (and a timestamped copy). Each scenario carries its own
 * baseline measured in the same run, because these machines are shared and noisy.
 */
async function main(): Promise<void> {
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const pendingRows = Number(process.env.BENCH_HEALTH_ROWS ?? 1_000_000);
  const startedAt = new Date();

  const health = await benchHealthProbe(databaseUrl, pendingRows);

  console.table({
    'backlog probe (capped)': row(health.probe),
    'baseline: SELECT 1': row(health.baselineSelect1),
    'uncapped count(*) for comparison': row(health.uncappedCount),
  });
  const verdict = health.probe.medianMs <= health.targetMs ? 'met' : 'MISSED';
  console.log(
    `health probe on ${health.pendingRows.toLocaleString('en')} pending rows: median ${health.probe.medianMs} ms ` +
      `(target ≤ ${health.targetMs} ms: ${verdict}; ${(health.probe.medianMs / health.baselineSelect1.medianMs).toFixed(1)}× SELECT 1)`,
  );

  const results = { startedAt, machine: machine(), scenarios: [health] };
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(results, null, 2) + '\n';
  writeFileSync(join(dir, 'latest.json'), json);
  writeFileSync(join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`), json);
  console.log(`results written to bench/results/latest.json`);
}

function row(s: { medianMs: number; minMs: number; maxMs: number; p95Ms: number; runs: number }) {
  return {
    'median ms': s.medianMs,
    'min ms': s.minMs,
    'max ms': s.maxMs,
    'p95 ms': s.p95Ms,
    runs: s.runs,
  };
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
