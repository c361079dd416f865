import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  createOutboxTableSql,
  dropOutboxTableSql,
} from '../src/outbox/persistence/outbox-table.sql.js';
import { summarizeRates, type RateSummary } from './bench-support.js';
import { startRelay } from './relay-harness.js';

export interface DrainResult {
  readonly scenario: 'drain';
  readonly events: number;
  readonly payloadBytes: number;
  readonly oneRelay: RateSummary;
  readonly twoRelays: RateSummary;
  readonly claimMarkCeiling: RateSummary;
  readonly publishCeiling: RateSummary;
  readonly combinedCeilingEventsPerSecond: number;
  readonly oneRelayRatioToCombined: number;
  readonly streamHeldEachIdOnce: boolean;
}

const BATCH = 500;
const IN_FLIGHT = 256;

/**
 * Drain rate of the real relay (one and two instances) on `events` pending ~1 KB events,
 * beside the two raw halves measured in the same run: claim+mark with plain `pg` and no
 * broker, and pipelined acknowledged JetStream publishes with the bare client and no database.
 */
export async function benchDrain(
  databaseUrl: string,
  natsUrl: string,
  events: number,
  runs: number,
): Promise<DrainResult> {
  const admin = await new DataSource({ type: 'postgres', url: databaseUrl }).initialize();
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  const pad = 'x'.repeat(900);
  const oneRelay: number[] = [];
  const twoRelays: number[] = [];
  const claimMark: number[] = [];
  const publish: number[] = [];
  let eachIdOnce = true;
  try {
    for (let run = 0; run < runs; run++) {
      for (const relays of [1, 2]) {
        const rate = await drainOnce(admin, jsm, databaseUrl, natsUrl, events, relays, pad);
        (relays === 1 ? oneRelay : twoRelays).push(rate.eventsPerSecond);
        eachIdOnce &&= rate.eachIdOnce;
      }
      claimMark.push(await claimMarkOnce(admin, databaseUrl, events, pad));
      publish.push(await publishOnce(nc, jsm, events, pad));
    }
  } finally {
    await nc.close();
    await admin.destroy();
  }
  const rate = summarizeRates;
  const claim = rate(claimMark);
  const pub = rate(publish);
  const combined = 1 / (1 / claim.median + 1 / pub.median);
  const one = rate(oneRelay);
  return {
    scenario: 'drain',
    events,
    payloadBytes: pad.length + 20,
    oneRelay: one,
    twoRelays: rate(twoRelays),
    claimMarkCeiling: claim,
    publishCeiling: pub,
    combinedCeilingEventsPerSecond: Math.round(combined),
    oneRelayRatioToCombined: Math.round((one.median / combined) * 100) / 100,
    streamHeldEachIdOnce: eachIdOnce,
  };
}

function unique(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

async function fillTable(admin: DataSource, table: string, events: number, pad: string) {
  for (const sql of createOutboxTableSql(table)) await admin.query(sql);
  await admin.query(
    `INSERT INTO "${table}" (event_id, event_type, event_version, aggregate_type, aggregate_id,
                             occurred_at, payload)
     SELECT gen_random_uuid(), 'bench.recorded', '1.0', 'bench', (g % 1000)::text, now(),
            jsonb_build_object('n', g, 'pad', $2::text)
       FROM generate_series(1, $1) g`,
    [events, pad],
  );
  await admin.query(`VACUUM ANALYZE "${table}"`);
}

async function drainOnce(
  admin: DataSource,
  jsm: JetStreamManager,
  databaseUrl: string,
  natsUrl: string,
  events: number,
  relays: number,
  pad: string,
): Promise<{ eventsPerSecond: number; eachIdOnce: boolean }> {
  const table = unique('bench_drain');
  const stream = unique('BENCH_DRAIN').toUpperCase();
  const prefix = unique('bench').replace(/_/g, '-');
  await fillTable(admin, table, events, pad);
  await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
  const started: Awaited<ReturnType<typeof startRelay>>[] = [];
  try {
    const t0 = performance.now();
    for (let i = 0; i < relays; i++) {
      started.push(
        await startRelay(databaseUrl, {
          table,
          stream,
          subjectPrefix: prefix,
          natsServers: [natsUrl],
          createStream: false,
          batchSize: BATCH,
          maxInFlight: IN_FLIGHT,
        }),
      );
    }
    for (;;) {
      const [{ pending }] = await admin.query<{ pending: number }[]>(
        `SELECT count(*)::int AS pending FROM "${table}" WHERE published_at IS NULL`,
      );
      if (pending === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const seconds = (performance.now() - t0) / 1000;
    const info = await jsm.streams.info(stream);
    return {
      eventsPerSecond: Math.round(events / seconds),
      eachIdOnce: info.state.messages === events,
    };
  } finally {
    await Promise.all(started.map((s) => s.app.close()));
    await jsm.streams.delete(stream).catch(() => undefined);
    await admin.query(dropOutboxTableSql(table));
  }
}

/** The database half alone: claim a batch with SKIP LOCKED, mark it, commit; no broker. */
async function claimMarkOnce(admin: DataSource, databaseUrl: string, events: number, pad: string) {
  const table = unique('bench_claim');
  await fillTable(admin, table, events, pad);
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const t0 = performance.now();
    for (;;) {
      await client.query('BEGIN');
      const { rows } = await client.query<{ id: string }>(
        `SELECT id, event_id, payload FROM "${table}"
          WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
        [BATCH],
      );
      await client.query(
        `UPDATE "${table}" SET published_at = now() WHERE id = ANY($1::bigint[])`,
        [rows.map((r) => r.id)],
      );
      await client.query('COMMIT');
      if (rows.length < BATCH) break;
    }
    return Math.round(events / ((performance.now() - t0) / 1000));
  } finally {
    await client.end();
    await admin.query(dropOutboxTableSql(table));
  }
}

/** The broker half alone: pipelined, acknowledged JetStream publishes; no database. */
async function publishOnce(nc: NatsConnection, jsm: JetStreamManager, events: number, pad: string) {
  const stream = unique('BENCH_PUB').toUpperCase();
  const subject = unique('benchpub').replace(/_/g, '-');
  await jsm.streams.add({ name: stream, subjects: [`${subject}.>`] });
  const js = jetstream(nc);
  const body = new TextEncoder().encode(JSON.stringify({ n: 0, pad }));
  try {
    const t0 = performance.now();
    let next = 0;
    const worker = async () => {
      while (next < events) {
        const n = next++;
        await js.publish(`${subject}.recorded`, body, { msgID: `m-${n}` });
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    return Math.round(events / ((performance.now() - t0) / 1000));
  } finally {
    await jsm.streams.delete(stream).catch(() => undefined);
  }
}
