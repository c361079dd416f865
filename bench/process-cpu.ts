import { readdirSync, readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { median } from './bench-support.js';

/**
 * Where the machine's CPU went during a window, by who spent it: the bench's own process, its
 * child processes, PostgreSQL's backends told apart by their connections' `application_name`,
 * the rest of PostgreSQL (WAL writer, checkpointer, autovacuum…), nats-server, and everything
 * else. Read from `/proc` (Linux) in the kernel's clock ticks, 10 ms each: a bucket of a 2-s
 * window is good to about 1 % of a core.
 */
export type CpuSplit = Readonly<Record<string, number>>;

/**
 * `/proc/<pid>/stat`'s utime + stime, in ms, plus cutime + cstime: the CPU of its children that
 * exited and were waited for. That is how a PostgreSQL backend that ended inside the window
 * (a connection the measured code closed) still counts: in the postmaster's. Undefined for a
 * process that is gone.
 */
function processMs(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: count after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime, stime, cutime and cstime are fields 14-17 of the line, 12-15 after name and state.
  const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number);
  return (utime + stime + cutime + cstime) * TICK_MS;
}

/** USER_HZ: 100 on every Linux this runs on. */
const TICK_MS = 10;

function pidsNamed(command: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === command) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Busy time of all cores (`/proc/stat`), in ms: everything but idle and iowait. */
function machineMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
  // "cpu user nice system idle iowait irq softirq steal …", in ticks.
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user + nice + system + irq + softirq + steal) * TICK_MS;
}

export interface CpuSnapshot {
  readonly machine: number;
  readonly self: number;
  /** Every process sampled, by pid: its CPU ms and what it is (see `CpuMeter.sample()`). */
  readonly byPid: ReadonlyMap<number, { readonly ms: number; readonly label: string }>;
}

/** With the URL's connections named `name` in `pg_stat_activity`, so that `CpuMeter` can tell them. */
export function withApplicationName(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', name);
  return url.toString();
}

/**
 * Samples taken at the start and the end of a window; `split()` sums each bucket's CPU ms in
 * between. A process's label: `postgres` (a server process that is not a named client
 * backend), `pg: <application_name>` for a backend whose connection's name starts with
 * `bench` (see `withApplicationName()`), `nats-server`, or the label `named()` gives a pid
 * (the bench's own child processes).
 */
export class CpuMeter {
  constructor(
    private readonly admin: DataSource,
    private readonly named: () => ReadonlyMap<number, string> = () => new Map(),
  ) {}

  async sample(): Promise<CpuSnapshot> {
    const labelOf = new Map<number, string>();
    for (const pid of pidsNamed('postgres')) labelOf.set(pid, 'postgres');
    const backends: { pid: number; application_name: string }[] = await this.admin.query(
      `SELECT pid, application_name FROM pg_stat_activity WHERE backend_type = 'client backend'`,
    );
    for (const { pid, application_name } of backends) {
      if (application_name.startsWith('bench')) labelOf.set(pid, `pg: ${application_name}`);
    }
    for (const pid of pidsNamed('nats-server')) labelOf.set(pid, 'nats-server');
    for (const [pid, label] of this.named()) labelOf.set(pid, label);
    const byPid = new Map<number, { ms: number; label: string }>();
    for (const [pid, label] of labelOf) {
      const ms = processMs(pid);
      if (ms !== undefined) byPid.set(pid, { ms, label });
    }
    const { user, system } = process.cpuUsage();
    return { machine: machineMs(), self: (user + system) / 1000, byPid };
  }

  /**
   * CPU ms between two samples by bucket (`bucketOf` a label), plus `bench` (this process),
   * `total` (the machine's busy time, all cores) and `rest` (what of it no process sampled
   * holds: the kernel's threads, other programs). A process that started in between counts from 0, under its label in the
   * later sample (a backend's `application_name` shows once it has run a query).
   */
  static split(
    from: CpuSnapshot,
    to: CpuSnapshot,
    bucketOf: (label: string) => string = (label) => label,
  ): CpuSplit {
    const split: Record<string, number> = { bench: to.self - from.self };
    for (const [pid, { ms, label }] of to.byPid) {
      const bucket = bucketOf(label);
      split[bucket] = (split[bucket] ?? 0) + ms - (from.byPid.get(pid)?.ms ?? 0);
    }
    const counted = Object.values(split).reduce((a, b) => a + b, 0);
    split.total = to.machine - from.machine;
    split.rest = Math.max(0, split.total - counted);
    return split;
  }
}

/**
 * `split` (CPU ms) per event or transaction, in µs. The bench's own process, `bench` in the
 * split, is named `selfName` here.
 */
export function microsPer(split: CpuSplit, count: number, selfName: string): CpuSplit {
  const out: Record<string, number> = {};
  for (const [bucket, ms] of Object.entries(split)) {
    out[bucket === 'bench' ? selfName : bucket] = Math.round((ms * 10_000) / count) / 10;
  }
  return out;
}

/** Each of `buckets`' median over the runs (0 where a run had none). */
export function medianSplit(runs: readonly CpuSplit[], buckets: readonly string[]): CpuSplit {
  const out: Record<string, number> = {};
  for (const bucket of buckets) {
    out[bucket] = Math.round(median(runs.map((r) => r[bucket] ?? 0)) * 10) / 10;
  }
  return out;
}
