import type { FlatOutboxOptions } from '../tools/flat-outbox-options.js';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { DataSource } from 'typeorm';
import {
  defineDomainEvent,
  type CreateDomainEventOptions,
  type DomainEvent,
} from '../src/outbox/index.js';
import { createOutboxTableSql, dropOutboxTableSql } from '../src/outbox/table/outbox-table.sql.js';

/** The padding that makes a benchmark event's payload about 1 KB of JSON. */
export const PAYLOAD_PAD = 'x'.repeat(900);
export const PAYLOAD_BYTES = PAYLOAD_PAD.length + 20;

const BenchRecorded = defineDomainEvent<{ n: number; pad: string }>({
  type: 'bench.recorded',
  version: '1.0',
  aggregateType: 'bench',
});

/** Event number `n`: ~1 KB, spread over 1,000 aggregates like the seeded rows. */
export function benchEvent(n: number, options?: CreateDomainEventOptions): DomainEvent {
  return BenchRecorded.create(String(n % 1000), { n, pad: PAYLOAD_PAD }, options);
}

/**
 * How the relay learns of new events: `off` is the cron tick alone (the default
 * `OUTBOX_RELAY_CRON`, every second), `notify` the LISTEN/NOTIFY wake-up (the default).
 */
export type WakeupMode = NonNullable<FlatOutboxOptions['relayWakeup']>;

/** The modes to measure: `BENCH_WAKEUP` (comma-separated), by default both. */
export function wakeupModes(): WakeupMode[] {
  const modes = (process.env.BENCH_WAKEUP ?? 'off,notify').split(',').filter(Boolean);
  const unknown = modes.filter((m) => m !== 'off' && m !== 'notify');
  if (unknown.length > 0) throw new Error(`BENCH_WAKEUP: unknown mode ${unknown.join(', ')}`);
  return modes as WakeupMode[];
}

/** A name no other run (or concurrent test suite) uses. */
export function unique(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

/** The bench's own connections: PostgreSQL for DDL and checks, NATS and its JetStream API. */
export interface BenchServices {
  readonly admin: DataSource;
  readonly nc: NatsConnection;
  readonly jsm: JetStreamManager;
  readonly close: () => Promise<void>;
}

export async function connectServices(
  databaseUrl: string,
  natsUrl: string,
): Promise<BenchServices> {
  const admin = await new DataSource({ type: 'postgres', url: databaseUrl }).initialize();
  const nc = await connect({ servers: natsUrl });
  const close = async () => {
    await nc.close();
    await admin.destroy();
  };
  return { admin, nc, jsm: await jetstreamManager(nc), close };
}

/**
 * An outbox table, a JetStream stream and a subject prefix of one measurement's own, so runs
 * on a shared machine never meet; `drop()` removes whatever was created.
 */
export class BenchOutbox {
  readonly table: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  private streamCreated = false;

  constructor(
    private readonly admin: DataSource,
    private readonly jsm: JetStreamManager | undefined,
    name = 'bench',
  ) {
    this.table = unique(`${name}_outbox`);
    this.stream = unique(name).toUpperCase();
    this.subjectPrefix = unique(name).replace(/_/g, '-');
  }

  /** The empty table with its indexes, and the stream when a JetStream manager was given. */
  async create(): Promise<this> {
    for (const sql of createOutboxTableSql(this.table)) await this.admin.query(sql);
    return this.createStream();
  }

  /**
   * The table holding `events` pending ~1 KB events of 1,000 aggregates, written by one
   * `INSERT … SELECT generate_series` with the partial indexes built afterwards (about twice
   * as fast as maintaining them row by row; 1,000,000 rows take ~25 s here), then vacuumed.
   */
  async createSeeded(events: number): Promise<this> {
    const [table, ...indexes] = createOutboxTableSql(this.table);
    await this.admin.query(table);
    await this.admin.query(...this.seedStatement(events));
    for (const sql of indexes) await this.admin.query(sql);
    await this.admin.query(`VACUUM ANALYZE "${this.table}"`);
    return this.createStream();
  }

  /** `events` pending ~1 KB events of 1,000 aggregates, in one statement: SQL and parameters. */
  seedStatement(events: number): [string, unknown[]] {
    return [
      `INSERT INTO "${this.table}" (event_id, event_type, event_version, aggregate_type,
                                    aggregate_id, occurred_at, payload)
       SELECT gen_random_uuid(), 'bench.recorded', '1.0', 'bench', (g % 1000)::text, now(),
              jsonb_build_object('n', g, 'pad', $2::text)
         FROM generate_series(1, $1) g`,
      [events, PAYLOAD_PAD],
    ];
  }

  /** What a relay on this table and stream is given (the stream exists already). */
  relayOptions(natsUrl: string): FlatOutboxOptions {
    return {
      table: this.table,
      stream: this.stream,
      subjectPrefix: this.subjectPrefix,
      natsServers: [natsUrl],
      createStream: false,
    };
  }

  async pending(): Promise<number> {
    const [{ pending }] = await this.admin.query<{ pending: number }[]>(
      // The pending index's own predicate: a count that reads only pending rows, so polling it
      // does not compete with the relay it measures.
      `SELECT count(*)::int AS pending FROM "${this.table}"
        WHERE published_at IS NULL AND failed_at IS NULL`,
    );
    return pending;
  }

  async storedMessages(): Promise<number> {
    if (!this.jsm) return 0;
    return (await this.jsm.streams.info(this.stream)).state.messages;
  }

  /**
   * Whether every aggregate's events are in the stream in the order they were seeded (their
   * payload's `n` rises along the stream), reading the whole stream once, in stream order.
   */
  async inAggregateOrder(): Promise<boolean> {
    if (!this.jsm) return false;
    const total = await this.storedMessages();
    if (total === 0) return true;
    const consumer = await this.jsm.jetstream().consumers.get(this.stream);
    const iterator = await consumer.consume({ max_messages: 1_000 });
    const last = new Map<string, number>();
    let seen = 0;
    let ordered = true;
    for await (const m of iterator) {
      const { aggregate_id, payload } = m.json<{ aggregate_id: string; payload: { n: number } }>();
      if ((last.get(aggregate_id) ?? -Infinity) > payload.n) ordered = false;
      last.set(aggregate_id, payload.n);
      if (++seen >= total) break;
    }
    await iterator.close();
    return ordered;
  }

  async drop(): Promise<void> {
    if (this.streamCreated) await this.jsm!.streams.delete(this.stream).catch(() => undefined);
    await this.admin.query(dropOutboxTableSql(this.table));
  }

  private async createStream(): Promise<this> {
    if (!this.jsm) return this;
    await this.jsm.streams.add({ name: this.stream, subjects: [`${this.subjectPrefix}.>`] });
    this.streamCreated = true;
    return this;
  }
}
