import {
  checkTarget,
  formatNumber,
  readmeRow,
  sleep,
  type ScenarioReport,
} from './bench-support.js';
import { BenchOutbox, connectServices, PAYLOAD_BYTES } from './outbox-fixture.js';
import { spawnRelay, type ReceivedSample } from './relay-harness.js';

/** Issue "Speed": the relay stays under 160 MB (Node default flags) and flat while draining 1,000,000 events. */
const TARGET_PEAK_MB = 160;
/**
 * "Flat": the second half of the drain peaks at most this much above the first half (after
 * the first 10 %). RSS is a garbage-collection sawtooth, so peaks and floors are compared,
 * not a trend line, which a single late collection would tilt.
 */
const FLAT_TOLERANCE_MB = 10;
const SAMPLE_EVERY_MS = 250;
/** A drain that publishes nothing for this long has failed; it is not waited for. */
const STALL_MS = 60_000;

export interface MemoryResult {
  readonly scenario: 'memory';
  readonly events: number;
  readonly payloadBytes: number;
  readonly sampleEveryMs: number;
  readonly drainSeconds: number;
  readonly eventsPerSecond: number;
  readonly rssMB: { readonly start: number; readonly peak: number; readonly end: number };
  readonly heapUsedPeakMB: number;
  /** Max − min of RSS once 10 % of the events were published: the sawtooth's height. */
  readonly spreadAfterWarmupMB: number;
  /** Second half's peak − first half's peak (after the first 10 %): > 0 means growing. */
  readonly peakGrowthMB: number;
  /** The same for the floors (the RSS just after collections): a leak raises the floor. */
  readonly floorGrowthMB: number;
  readonly allPublished: boolean;
  /** One sample a second: seconds since the relay was ready, RSS MB, events published. */
  readonly samples: [number, number, number][];
}

/**
 * The relay's resident memory while it drains `events` pending ~1 KB events: one relay with
 * the default settings in a process of its own (so the RSS is the relay's alone), reporting
 * `process.memoryUsage()` every 250 ms. The rows are seeded with one INSERT … SELECT, not
 * through the application.
 */
export async function benchMemory(
  databaseUrl: string,
  natsUrl: string,
  events: number,
): Promise<MemoryResult> {
  const { admin, jsm, close } = await connectServices(databaseUrl, natsUrl);
  const fixture = new BenchOutbox(admin, jsm, 'bench_memory');
  try {
    await fixture.createSeeded(events);
    const relay = await spawnRelay(databaseUrl, fixture.relayOptions(natsUrl), SAMPLE_EVERY_MS);
    try {
      await drained(relay.samples, events);
    } finally {
      await relay.stop();
    }
    return summarize(relay.samples, events, (await fixture.pending()) === 0);
  } finally {
    await fixture.drop();
    await close();
  }
}

async function drained(samples: readonly ReceivedSample[], events: number): Promise<void> {
  let progress = { published: -1, atMs: performance.now() };
  for (;;) {
    const published = samples.at(-1)?.published ?? 0;
    if (published >= events) return;
    if (published > progress.published) progress = { published, atMs: performance.now() };
    if (performance.now() - progress.atMs > STALL_MS) {
      throw new Error(`memory: the relay stalled at ${published} of ${events} events`);
    }
    await sleep(1_000);
  }
}

/** Megabytes (10^6 bytes), as the target is stated. */
const MB = (bytes: number) => Math.round(bytes / 1e5) / 10;

function summarize(samples: ReceivedSample[], events: number, allPublished: boolean): MemoryResult {
  const done = samples.findIndex((s) => s.published >= events);
  const draining = samples.slice(0, done + 1);
  const t0 = draining[0].atMs;
  const seconds = (draining.at(-1)!.atMs - t0) / 1000;
  const rss = draining.map((s) => MB(s.rssBytes));
  const rssWhere = (from: number, to: number) =>
    draining.filter((s) => s.published >= from && s.published < to).map((s) => s.rssBytes);
  const afterWarmup = rssWhere(events / 10, Infinity);
  const firstHalf = rssWhere(events / 10, events / 2);
  const secondHalf = rssWhere(events / 2, Infinity);
  const growth = (pick: (values: number[]) => number) => MB(pick(secondHalf) - pick(firstHalf));
  return {
    scenario: 'memory',
    events,
    payloadBytes: PAYLOAD_BYTES,
    sampleEveryMs: SAMPLE_EVERY_MS,
    drainSeconds: Math.round(seconds),
    eventsPerSecond: Math.round(events / seconds),
    rssMB: { start: rss[0], peak: Math.max(...rss), end: rss.at(-1)! },
    heapUsedPeakMB: MB(Math.max(...draining.map((s) => s.heapUsedBytes))),
    spreadAfterWarmupMB: MB(Math.max(...afterWarmup) - Math.min(...afterWarmup)),
    peakGrowthMB: growth((v) => Math.max(...v)),
    floorGrowthMB: growth((v) => Math.min(...v)),
    allPublished,
    samples: draining
      .filter((_, i) => i % Math.round(1_000 / SAMPLE_EVERY_MS) === 0)
      .map((s) => [Math.round((s.atMs - t0) / 100) / 10, MB(s.rssBytes), s.published]),
  };
}

export function reportMemory(memory: MemoryResult): ScenarioReport {
  const scenario = `memory, 1 relay draining ${formatNumber(memory.events)} events`;
  const targets = [
    checkTarget({
      scenario,
      target: `peak RSS < ${TARGET_PEAK_MB} MB`,
      value: memory.rssMB.peak,
      unit: ' MB',
      limit: TARGET_PEAK_MB,
      atMost: true,
    }),
    checkTarget({
      scenario,
      target: `flat: second half peaks ≤ ${FLAT_TOLERANCE_MB} MB above the first`,
      value: Math.max(0, memory.peakGrowthMB),
      unit: ' MB',
      limit: FLAT_TOLERANCE_MB,
      atMost: true,
    }),
  ];
  return {
    tables: {
      [scenario]: {
        'relay RSS, MB': {
          start: memory.rssMB.start,
          peak: memory.rssMB.peak,
          end: memory.rssMB.end,
          'spread after 10 %': memory.spreadAfterWarmupMB,
          'peak growth, 2nd half': memory.peakGrowthMB,
          'floor growth, 2nd half': memory.floorGrowthMB,
          'heap peak': memory.heapUsedPeakMB,
        },
      },
    },
    lines: [
      `memory: drained in ${memory.drainSeconds} s (${formatNumber(memory.eventsPerSecond)} events/s); ` +
        `all published: ${memory.allPublished}`,
    ],
    targets,
    readme: [
      readmeRow(
        `${scenario}, relay RSS (1 run)`,
        `peak ${memory.rssMB.peak} MB`,
        `start ${memory.rssMB.start} MB`,
        `end ${memory.rssMB.end} MB`,
        targets,
      ),
    ],
  };
}
