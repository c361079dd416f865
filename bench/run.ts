import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { machine, type RateSummary } from './bench-support.js';
import { benchDrain } from './drain.bench.js';
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

  const natsUrl = process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222';
  const only = new Set((process.env.BENCH_ONLY ?? 'drain,health').split(','));
  const scenarios: unknown[] = [];

  if (only.has('drain')) {
    const events = Number(process.env.BENCH_DRAIN_EVENTS ?? 100_000);
    const runs = Number(process.env.BENCH_RUNS ?? 3);
    const drain = await benchDrain(databaseUrl, natsUrl, events, runs);
    scenarios.push(drain);
    const perSecond = (r: RateSummary) => ({
      'median events/s': r.median,
      'min events/s': r.min,
      'max events/s': r.max,
      runs: r.runs,
    });
    console.table({
      'relay, 1 instance': perSecond(drain.oneRelay),
      'relay, 2 instances': perSecond(drain.twoRelays),
      'baseline: claim+mark, plain pg, no broker': perSecond(drain.claimMarkCeiling),
      'baseline: pipelined acked JetStream publish, no db': perSecond(drain.publishCeiling),
    });
    console.log(
      `drain of ${events.toLocaleString('en')} ~1 KB events: 1 relay ${drain.oneRelay.median}/s = ` +
        `${drain.oneRelayRatioToCombined} × the combined ceiling ${drain.combinedCeilingEventsPerSecond}/s ` +
        `(targets: ≥ 15,000/s and ≥ 0.85); stream held each id once: ${drain.streamHeldEachIdOnce}`,
    );
  }
  if (!only.has('health')) return finish(startedAt, scenarios);
  const health = await benchHealthProbe(databaseUrl, pendingRows);
  scenarios.push(health);

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

  finish(startedAt, scenarios);
}

function finish(startedAt: Date, scenarios: unknown[]): void {
  const results = { startedAt, machine: machine(), scenarios };
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
