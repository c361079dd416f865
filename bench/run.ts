import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { Client } from 'pg';
import {
  envNumber,
  machine,
  type ReadmeRow,
  type ScenarioReport,
  type TargetCheck,
} from './bench-support.js';
import { chartSvg } from './chart.js';
import { benchDrain, reportDrain } from './drain.bench.js';
import { benchHealthProbe, reportHealth } from './health-probe.bench.js';
import { benchLatency, reportLatency } from './latency.bench.js';
import { benchMemory, reportMemory } from './memory.bench.js';
import { wakeupModes } from './outbox-fixture.js';
import { benchScaling, reportScaling } from './scaling.bench.js';
import { benchWritePath, reportWritePath } from './write-path.bench.js';

interface Settings {
  readonly databaseUrl: string;
  readonly natsUrl: string;
  readonly runs: number;
}

interface Scenario {
  run(settings: Settings): Promise<object>;
  report(result: never): ScenarioReport;
}

/** Every scenario, in the order they run; `BENCH_ONLY` picks some. */
const SCENARIOS: Readonly<Record<string, Scenario>> = {
  drain: {
    run: (s) =>
      benchDrain(s.databaseUrl, s.natsUrl, envNumber('BENCH_DRAIN_EVENTS', 100_000), s.runs),
    report: reportDrain,
  },
  health: {
    run: (s) => benchHealthProbe(s.databaseUrl, envNumber('BENCH_HEALTH_ROWS', 1_000_000)),
    report: reportHealth,
  },
  latency: {
    run: (s) =>
      benchLatency(s.databaseUrl, s.natsUrl, {
        rates: (process.env.BENCH_LATENCY_RATES ?? '100,1000').split(',').map(Number),
        modes: wakeupModes(),
        seconds: envNumber('BENCH_LATENCY_SECONDS', 5),
        warmupSeconds: envNumber('BENCH_LATENCY_WARMUP_SECONDS', 1),
        runs: s.runs,
      }),
    report: reportLatency,
  },
  write: {
    run: (s) =>
      benchWritePath(s.databaseUrl, s.natsUrl, {
        writers: envNumber('BENCH_WRITERS', 8),
        seconds: envNumber('BENCH_WRITE_SECONDS', 2),
        modes: wakeupModes(),
        runs: envNumber('BENCH_WRITE_RUNS', 2 * s.runs),
      }),
    report: reportWritePath,
  },
  scaling: {
    run: (s) =>
      benchScaling(s.databaseUrl, s.natsUrl, {
        events: envNumber('BENCH_SCALING_EVENTS', 100_000),
        relays: (process.env.BENCH_SCALING_RELAYS ?? '1,2,4').split(',').map(Number),
        runs: envNumber('BENCH_SCALING_RUNS', 1),
      }),
    report: reportScaling,
  },
  memory: {
    run: (s) => benchMemory(s.databaseUrl, s.natsUrl, envNumber('BENCH_MEMORY_EVENTS', 1_000_000)),
    report: reportMemory,
  },
};

/**
 * `npm run bench`: runs every scenario against the machine's services, prints one table per
 * scenario and a summary of the targets, and writes bench/results/latest.json and latest.svg
 * (and timestamped copies). Drain, health and write path carry baselines measured in the same run,
 * because these machines are shared and noisy. A scenario that fails is reported and the
 * others still run; every scenario removes its tables, streams and processes in `finally`.
 */
async function main(): Promise<void> {
  const startedAt = new Date();
  const settings: Settings = {
    databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    natsUrl: process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222',
    runs: envNumber('BENCH_RUNS', 3),
  };
  const only = (process.env.BENCH_ONLY ?? Object.keys(SCENARIOS).join(',')).split(',');
  const unknown = only.filter((name) => !(name in SCENARIOS));
  if (unknown.length > 0) throw new Error(`BENCH_ONLY: unknown scenario ${unknown.join(', ')}`);

  const scenarios: object[] = [];
  const targets: TargetCheck[] = [];
  const readme: ReadmeRow[] = [];
  const failures: { scenario: string; error: string }[] = [];
  for (const name of only) {
    const scenario = SCENARIOS[name];
    const t0 = performance.now();
    try {
      const result = await scenario.run(settings);
      const seconds = Math.round((performance.now() - t0) / 1000);
      scenarios.push({ ...result, seconds });
      const report = scenario.report(result as never);
      for (const [title, table] of Object.entries(report.tables)) {
        console.log(`\n${title} (${seconds} s)`);
        console.table(table);
      }
      for (const line of report.lines) console.log(line);
      targets.push(...report.targets);
      readme.push(...report.readme);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      console.error(`scenario ${name} failed: ${message}`);
      failures.push({ scenario: name, error: message });
    }
  }

  console.log('\ntargets (issue #6)');
  console.table(targets);
  console.log(
    '\ndocs/benchmarks.md table (markdown; `npx prettier --write docs/benchmarks.md` aligns it)\n',
  );
  console.log(markdownTable(['scenario', 'median', 'min', 'max', 'target'], readme));
  const finishedAt = new Date();
  const results = {
    startedAt,
    finishedAt,
    wallSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine: { ...machine(), ...(await serviceVersions(settings)) },
    scenarios,
    targets,
    failures,
  };
  write(startedAt, results);
  console.log(`wall time ${results.wallSeconds} s`);
  if (failures.length > 0) process.exitCode = 1;
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

async function serviceVersions(settings: Settings): Promise<Record<string, string>> {
  const pg = new Client({ connectionString: settings.databaseUrl });
  await pg.connect();
  const nc = await connect({ servers: settings.natsUrl });
  try {
    const { rows } = await pg.query<{ server_version: string }>('SHOW server_version');
    return { postgres: rows[0].server_version, natsServer: nc.info?.version ?? 'unknown' };
  } finally {
    await pg.end();
    await nc.close();
  }
}

function write(startedAt: Date, results: Parameters<typeof chartSvg>[0]): void {
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const json = JSON.stringify(results, null, 2) + '\n';
  const svg = chartSvg(results);
  for (const name of ['latest', stamp]) {
    writeFileSync(join(dir, `${name}.json`), json);
    writeFileSync(join(dir, `${name}.svg`), svg);
  }
  console.log('results written to bench/results/latest.json and latest.svg');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
