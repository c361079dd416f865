import { formatNumber, median } from './bench-support.js';
import type { DrainResult } from './drain.bench.js';
import { MODE_LABELS, type LatencyResult, type LatencyRow } from './latency.bench.js';
import type { MemoryResult } from './memory.bench.js';
import type { ScalingResult } from './scaling.bench.js';

/** What `npm run bench` wrote into latest.json, as far as the chart reads it. */
export interface ChartInput {
  readonly startedAt: Date;
  readonly machine: Readonly<Record<string, unknown>>;
  readonly scenarios: readonly object[];
}

const WIDTH = 960;
const LATENCY_HEIGHT = 420;
const DRAIN_HEIGHT = 400;
const LEFT = 90;
const RIGHT = 30;
const PERCENTILES = [
  { key: 'p50Ms', label: 'p50', color: '#8fb8de' },
  { key: 'p95Ms', label: 'p95', color: '#4a7fb5' },
  { key: 'p99Ms', label: 'p99', color: '#1d3f66' },
] as const;

/**
 * The chart in bench/results/latest.svg, drawn as plain SVG text: commit-to-receive
 * percentiles per rate and wake-up mode (log scale, with the targets), and the drain rate of
 * each configuration beside its baselines (linear scale, with the target).
 */
export function chartSvg(results: ChartInput): string {
  const find = <T extends { scenario: string }>(name: T['scenario']) =>
    results.scenarios.find((s) => (s as T).scenario === name) as T | undefined;
  const latency = find<LatencyResult>('latency');
  const drain = find<DrainResult>('drain');
  const memory = find<MemoryResult>('memory');
  const scaling = find<ScalingResult>('scaling');
  const m = results.machine;
  const subtitle = `${String(m.cpus)} cores (${String(m.cpuModel)}), PostgreSQL ${String(m.postgres)}, nats-server ${String(m.natsServer)}, Node ${String(m.node)}; ${new Date(results.startedAt).toISOString().slice(0, 16)} UTC`;
  const height = 70 + LATENCY_HEIGHT + DRAIN_HEIGHT;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    text(WIDTH / 2, 26, 'npm run bench: nestjs-pg-outbox', {
      size: 17,
      anchor: 'middle',
      bold: true,
    }),
    text(WIDTH / 2, 46, subtitle, { anchor: 'middle', color: '#555' }),
    `<g transform="translate(0 70)">${latency ? latencyPanel(latency) : missing('latency')}</g>`,
    `<g transform="translate(0 ${70 + LATENCY_HEIGHT})">${drain ? drainPanel(drain, memory, scaling) : missing('drain')}</g>`,
    '</svg>',
    '',
  ].join('\n');
}

function latencyPanel(latency: LatencyResult): string {
  const top = 40;
  const bottom = LATENCY_HEIGHT - 70;
  const values = latency.rows.flatMap((r) => [r.p50Ms, r.p95Ms, r.p99Ms, r.targetP99Ms ?? 1]);
  const lo = Math.min(0, Math.floor(Math.log10(Math.max(0.01, Math.min(...values)))));
  // Headroom above the tallest bar for its label, without jumping to the next power of ten.
  const hi = Math.max(1, Math.log10(Math.max(...values) * 1.6));
  const y = (ms: number) =>
    bottom - ((Math.log10(Math.max(ms, 10 ** lo)) - lo) / (hi - lo)) * (bottom - top);
  const parts: string[] = [
    text(
      LEFT,
      20,
      `Commit-to-receive latency, ms (log scale); median of ${latency.runs} run(s) × ${latency.secondsPerRate} s`,
      { size: 14, bold: true },
    ),
  ];
  for (let e = lo; e <= Math.floor(hi); e++) {
    const gy = y(10 ** e);
    parts.push(line(LEFT, gy, WIDTH - RIGHT, gy, '#ddd'));
    parts.push(text(LEFT - 8, gy + 4, formatNumber(10 ** e), { anchor: 'end', color: '#555' }));
  }
  const groupWidth = (WIDTH - LEFT - RIGHT) / Math.max(1, latency.rows.length);
  const barWidth = Math.min(44, (groupWidth - 30) / PERCENTILES.length);
  latency.rows.forEach((row, g) => {
    const x0 = LEFT + g * groupWidth + (groupWidth - barWidth * PERCENTILES.length) / 2;
    PERCENTILES.forEach((p, i) => {
      const v = row[p.key];
      const by = y(v);
      const bx = x0 + i * barWidth;
      parts.push(rect(bx + 2, by, barWidth - 4, bottom - by, p.color));
      parts.push(text(bx + barWidth / 2, by - 4, formatNumber(v), { anchor: 'middle', size: 10 }));
    });
    if (row.targetP99Ms !== undefined) {
      const ty = y(row.targetP99Ms);
      const x1 = x0 + barWidth * PERCENTILES.length;
      parts.push(line(x0 - 6, ty, x1 + 6, ty, '#c0392b', '5 3', 2));
    }
    const cx = LEFT + g * groupWidth + groupWidth / 2;
    parts.push(
      text(cx, bottom + 18, `${formatNumber(row.ratePerSecond)} events/s`, {
        anchor: 'middle',
        bold: true,
      }),
    );
    parts.push(text(cx, bottom + 34, MODE_LABELS[row.mode], { anchor: 'middle' }));
    const notes = [
      row.targetP99Ms === undefined ? '' : `p99 target ${row.targetP99Ms} ms`,
      row.missing > 0 ? `${row.missing} missing` : '',
      achieved(row) < 0.95 * row.ratePerSecond ? `achieved ${formatNumber(achieved(row))}/s` : '',
    ].filter(Boolean);
    parts.push(text(cx, bottom + 50, notes.join(', '), { anchor: 'middle', color: '#c0392b' }));
  });
  parts.push(line(LEFT, bottom, WIDTH - RIGHT, bottom, '#333'));
  PERCENTILES.forEach((p, i) => {
    const lx = WIDTH - RIGHT - 290 + i * 62;
    parts.push(rect(lx, 8, 12, 12, p.color));
    parts.push(text(lx + 16, 18, p.label));
  });
  const lx = WIDTH - RIGHT - 290 + PERCENTILES.length * 62;
  parts.push(line(lx, 14, lx + 22, 14, '#c0392b', '5 3', 2));
  parts.push(text(lx + 28, 18, 'p99 target'));
  return parts.join('\n');
}

const achieved = (row: LatencyRow) => median(row.runs.map((r) => r.achievedPerSecond));

function drainPanel(
  drain: DrainResult,
  memory: MemoryResult | undefined,
  scaling: ScalingResult | undefined,
): string {
  const bars: [string, number, string][] = [
    ['relay, 1 instance', drain.oneRelay.median, '#1d3f66'],
    ['relay, 1 instance, retention 0 (deletes on publish)', drain.deleting.median, '#2c6e9e'],
    ['reference: lean hand-written relay', drain.lean.median, '#27ae60'],
    ['baseline: claim + mark, plain pg, no broker', drain.claimMarkCeiling.median, '#7f8c8d'],
    ['baseline: acked JetStream publishes, no db', drain.publishCeiling.median, '#7f8c8d'],
    ['combined ceiling 1/(1/claim + 1/publish)', drain.combinedCeilingEventsPerSecond, '#b0b7bb'],
  ];
  for (const row of scaling?.rows ?? []) {
    bars.push([
      `${row.relays} relay process${row.relays > 1 ? 'es' : ''}, one backlog (${formatNumber(scaling!.events)})`,
      row.eventsPerSecond.median,
      '#2c6e9e',
    ]);
  }
  if (memory) {
    bars.push([
      `relay, 1 instance, ${formatNumber(memory.events)} backlog (1 run)`,
      memory.eventsPerSecond,
      '#4a7fb5',
    ]);
  }
  const labelWidth = 300;
  const x0 = LEFT + labelWidth - 60;
  const target = 15_000;
  const max = Math.max(target, ...bars.map(([, v]) => v)) * 1.12;
  const x = (v: number) => x0 + (v / max) * (WIDTH - RIGHT - x0);
  const top = 40;
  const rowHeight = Math.min(38, (DRAIN_HEIGHT - top - 40) / bars.length);
  const parts: string[] = [
    text(
      LEFT,
      20,
      `Drain rate, events/s, ${formatNumber(drain.events)} pending ~1 KB events; median of ${drain.oneRelay.runs} run(s)`,
      { size: 14, bold: true },
    ),
  ];
  const step = niceStep(max / 6);
  const bottom = top + rowHeight * bars.length;
  for (let v = 0; v <= max; v += step) {
    parts.push(line(x(v), top - 6, x(v), bottom, '#ddd'));
    parts.push(text(x(v), bottom + 16, formatNumber(v), { anchor: 'middle', color: '#555' }));
  }
  bars.forEach(([label, value, color], i) => {
    const by = top + i * rowHeight;
    parts.push(text(x0 - 10, by + rowHeight / 2 + 4, label, { anchor: 'end' }));
    parts.push(rect(x0, by + 5, x(value) - x0, rowHeight - 10, color));
    parts.push(text(x(value) + 6, by + rowHeight / 2 + 4, formatNumber(value), { size: 11 }));
  });
  parts.push(line(x(target), top - 10, x(target), bottom, '#c0392b', '5 3', 2));
  parts.push(
    text(x(target), top - 14, `target ${formatNumber(target)}/s`, {
      anchor: 'middle',
      size: 10,
      color: '#c0392b',
    }),
  );
  parts.push(line(x0, bottom, WIDTH - RIGHT, bottom, '#333'));
  return parts.join('\n');
}

/** 1, 2 or 5 times a power of ten, the nearest to `raw`. */
function niceStep(raw: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  return (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * magnitude;
}

function missing(what: string): string {
  return text(WIDTH / 2, 60, `${what}: not measured in this run`, {
    anchor: 'middle',
    color: '#999',
  });
}

function text(
  x: number,
  y: number,
  content: string,
  style: {
    size?: number;
    anchor?: 'start' | 'middle' | 'end';
    bold?: boolean;
    color?: string;
  } = {},
): string {
  const escaped = content.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<text x="${r(x)}" y="${r(y)}" font-size="${style.size ?? 12}" text-anchor="${style.anchor ?? 'start'}"${style.bold ? ' font-weight="bold"' : ''} fill="${style.color ?? '#222'}">${escaped}</text>`;
}

function rect(x: number, y: number, width: number, height: number, fill: string): string {
  return `<rect x="${r(x)}" y="${r(y)}" width="${r(Math.max(0, width))}" height="${r(Math.max(0, height))}" fill="${fill}"/>`;
}

function line(
  x1: number,
  y1: number,
  x2: number,
  y2: number,
  stroke: string,
  dash?: string,
  width = 1,
): string {
  return `<line x1="${r(x1)}" y1="${r(y1)}" x2="${r(x2)}" y2="${r(y2)}" stroke="${stroke}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
}

const r = (n: number) => Math.round(n * 10) / 10;
