import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { qualifiedTableName } from '../config/sql-identifier.js';
import { aggregateKey } from '../message/aggregate-key.js';
import type { ClaimedEvent } from '../message/claimed-event.js';
import type { EventEnvelope } from '../message/event-envelope.js';
import type { OutboxMessage } from '../message/outbox-message.js';
import { OUTBOX_OPTIONS } from '../outbox.constants.js';
import { OutboxTableMissingError } from '../errors/outbox-table-missing.error.js';
import { isUndefinedTable, runOutboxQuery, sqlState } from '../table/run-outbox-query.js';
import { PreparedClaimLostError } from './prepared-claim-lost.error.js';

/** A publish that failed for this event, to be retried later or given up. */
export interface EventFailure {
  readonly id: string;
  /** Already free of credentials. */
  readonly error: string;
  readonly retryInMs: number;
  /** Out of attempts, or the broker can never take it (too large): keep it as a dead letter. */
  readonly giveUp: boolean;
}

/** What one claim returned. */
export interface ClaimedBatch {
  /** Rows locked, including those held back for ordering: a full batch means "look again". */
  readonly locked: number;
  /** The rows that may be published now, in id order. */
  readonly events: ClaimedEvent[];
  /** The aggregates (`aggregateKey`) of the rows held back. */
  readonly heldAggregates: string[];
  /**
   * Lets go of the batch's payloads and headers once it is done; its events must not be read
   * again. A young object that a dead but already promoted object still points to survives
   * every scavenge until the next full collection ("nepotism"), and a batch's rows are often
   * enough in that position that, without this, nearly every payload reached the old
   * generation: 1.5 KB an event was promoted, 0.55 KB with it.
   */
  readonly release: () => void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * What PostgreSQL answers when a named statement its client prepared is not on the server
 * connection (26000), or one of that name already is (42P05): both mean a proxy moved the
 * client between server connections.
 */
const STATEMENT_LOST = new Set(['26000', '42P05']);

interface PgResult<R> {
  rows: R[];
}

/** The part of pg's client the claim uses: text only, which pg sends as a simple query. */
interface PgClient {
  query<R>(text: string): Promise<PgResult<R> | PgResult<R>[]>;
}

const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

interface Row {
  id: string;
  attempts: number;
  /** False while an earlier row of the aggregate is unpublished and not in this batch. */
  ready: boolean;
  event_id: string;
  event_type: string;
  event_version: string;
  aggregate_type: string;
  aggregate_id: string;
  /** RFC 3339 in UTC, as `toISOString()` writes it: formatted by the database. */
  occurred_at: string;
  /** Epoch milliseconds. */
  created_at: number;
  payload_json: string;
  headers: Record<string, string>;
}

/**
 * The relay's statements on the outbox table: claim a batch, mark what was acknowledged,
 * record what failed. Each runs in the relay's claim transaction, through its manager.
 */
@Injectable()
export class OutboxRelayStore {
  private readonly logger = new Logger(OutboxRelayStore.name);
  private readonly table: string;
  /** Whether the claim is still prepared; see `claimRows`. */
  private prepared: boolean;
  /** The claims (by statement name) prepared on each pg client, that is, each connection. */
  private readonly preparedOn = new WeakMap<object, Set<string>>();
  private claimText: { limit: number; sql: string; name: string } | undefined;
  /**
   * Rows `o` a claim may take: pending, due, and not behind an earlier row of their aggregate
   * that waits for a retry or is dead-lettered. That last part comes before the LIMIT, so a
   * blocked aggregate cannot fill every batch and starve the others.
   */
  private readonly due: string;

  constructor(@Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions) {
    this.table = qualifiedTableName(options.table, options.schema);
    this.prepared = options.preparedStatements;
    const stuck = `s.published_at IS NULL AND s.attempts > 0
               AND (s.failed_at IS NOT NULL OR s.next_attempt_at > now())`;
    // A row below the first stuck row of the whole table is not behind one, and is not asked
    // about its aggregate: with nothing stuck, the usual case, nothing is. The rest ask
    // `_retrying_idx` one row each (OFFSET 0 keeps it a per-row lookup): as a join the planner
    // expects one stuck row and compares every candidate with all of them, which made a
    // claim with 150 stuck rows eight times slower.
    this.due = `o.published_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= now()
      AND (coalesce(o.id < (SELECT min(s.id) FROM ${this.table} s WHERE ${stuck}), true)
           OR NOT EXISTS (
                SELECT 1 FROM ${this.table} s
                 WHERE s.aggregate_type = o.aggregate_type AND s.aggregate_id = o.aggregate_id
                   AND s.id < o.id AND ${stuck}
                OFFSET 0))`;
  }

  /**
   * Locks up to `limit` due rows in id order, skipping rows another relay holds, and returns
   * those that may go out now. The locks last until the caller's transaction ends, which is
   * what keeps two relays from publishing the same row at the same time. Order per aggregate:
   * a row is held back while an earlier committed row of its aggregate is unpublished and not in this
   *   batch (locked by another relay, waiting for a retry, or dead-lettered); it stays locked
   *   until this transaction ends, and is looked at again by the next claim.
   */
  async claim(manager: EntityManager, limit: number): Promise<ClaimedBatch> {
    return this.claimed(await this.claimRows(manager, limit, ''));
  }

  /**
   * Opens the relay's claim transaction, sets its limits and claims, in one round trip: a
   * wake-up for one event reaches its publish after a single message to PostgreSQL. The
   * transaction's statements and idle time are bounded (`ms`), and its commit returns before
   * the WAL is flushed. A mark lost in a database crash only makes its rows pending again, to
   * be published again and dropped by the broker's de-duplication: at-least-once allows that,
   * and the relay's commits then no longer queue for the disk with the writers'. The settings
   * are transaction-local, so they end with it, also behind PgBouncer in transaction mode. End
   * it with `commit()` or `rollback()`; it is open even when this throws. `before` goes first
   * in the same message: statements whose effect does not wait for the transaction, such as
   * writing the relay's idle flag (a sequence, which no rollback undoes).
   */
  async openAndClaim(
    manager: EntityManager,
    limit: number,
    ms: number,
    before = '',
  ): Promise<ClaimedBatch> {
    const bound = String(Math.trunc(ms));
    const begin = `${before}START TRANSACTION;
       SELECT set_config('idle_in_transaction_session_timeout', '${bound}', true),
              set_config('statement_timeout', '${bound}', true),
              set_config('synchronous_commit', 'off', true);
       `;
    return this.claimed(await this.claimRows(manager, limit, begin));
  }

  /**
   * The claim's text for `limit` rows. The limit is written in (an integer, checked here)
   * rather than passed: a statement without parameters has one plan, which the prepared claim
   * then never makes again; and statements sent together in one message take no parameters.
   */
  private claimSql(limit: number): { sql: string; name: string } {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`claim limit ${limit}`);
    if (this.claimText?.limit !== limit) {
      // Rows behind a stuck predecessor (retry pending, or dead letter) are skipped before the
      // LIMIT, so a blocked aggregate cannot fill every batch and starve the others.
      const sql = `WITH candidates AS (
         SELECT o.id, o.attempts, o.event_id, o.event_type, o.event_version, o.aggregate_type,
                o.aggregate_id,
                -- Text and a number rather than timestamps: pg would parse two Dates a row,
                -- one only to be formatted again, on the relay's hot path.
                to_char(o.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
                  AS occurred_at,
                date_part('epoch', o.created_at) * 1000 AS created_at,
                o.payload::text AS payload_json,
                o.headers
           FROM ${this.table} o
          WHERE ${this.due}
          ORDER BY o.id
          LIMIT ${limit}
            FOR UPDATE SKIP LOCKED
       ),
       -- Every row that can hold a candidate back is unpublished and not a candidate: it is
       -- pending, or a dead letter. A candidate below the lowest of those is ready without
       -- asking its aggregate. When the claim took the first pending rows (one relay, one batch
       -- in flight: the usual drain) that is all of them, and the per-row probe below, most of
       -- the claim's cost, never runs.
       first_other AS (
         SELECT least(
           (SELECT p.id FROM ${this.table} p
             WHERE p.published_at IS NULL AND p.failed_at IS NULL
               AND p.id NOT IN (SELECT id FROM candidates)
             ORDER BY p.id LIMIT 1),
           (SELECT f.id FROM ${this.table} f
             WHERE f.failed_at IS NOT NULL AND f.published_at IS NULL
             ORDER BY f.id LIMIT 1)) AS id
       )
       -- The locked rows are read as they are locked: joining them back by primary key would
       -- visit every row twice.
       SELECT c.*,
              coalesce(c.id < (SELECT id FROM first_other), true) OR NOT EXISTS (
                SELECT 1 FROM ${this.table} e
                 WHERE e.aggregate_type = c.aggregate_type AND e.aggregate_id = c.aggregate_id
                   AND e.id < c.id AND e.published_at IS NULL
                   AND e.id NOT IN (SELECT id FROM candidates)) AS ready
         FROM candidates c
        ORDER BY c.id`;
      const name = `outbox_claim_${createHash('sha256').update(sql).digest('hex').slice(0, 16)}`;
      this.claimText = { limit, sql, name };
    }
    return this.claimText;
  }

  private claimed(rows: Row[]): ClaimedBatch {
    const events: ClaimedEvent[] = [];
    const heldAggregates: string[] = [];
    for (const row of rows) {
      if (!row.ready) {
        heldAggregates.push(aggregateKey(row.aggregate_type, row.aggregate_id));
        continue;
      }
      events.push({
        id: row.id,
        attempts: row.attempts,
        createdAtMs: row.created_at,
        message: { envelope: envelopeOf(row), headers: row.headers, payloadJson: row.payload_json },
      });
    }
    const release = () => {
      for (const row of rows) {
        row.payload_json = '';
        row.headers = NO_HEADERS;
      }
      for (const { message } of events) {
        Object.assign(message as Mutable<OutboxMessage>, {
          headers: NO_HEADERS,
          payloadJson: undefined,
        });
      }
      rows.length = 0;
      events.length = 0;
    };
    return { locked: rows.length, events, heldAggregates, release };
  }

  /**
   * Runs `begin` (statements to send first, or nothing) and the claim, in one message on the
   * transaction's own pg client. The claim is a prepared statement (SQL `PREPARE`, once per
   * connection, then `EXECUTE`): PostgreSQL then plans it once per connection rather than for
   * every batch, where planning took 0.65 ms and running it 0.15 ms for a one-event wake-up.
   * Behind a proxy that loses prepared statements between transactions (PgBouncer in
   * transaction mode, which since 1.21 keeps only protocol-level ones, not SQL `PREPARE`)
   * the first loss turns this off for good: the batch is claimed
   * again, unprepared, and a warning says so once.
   */
  private async claimRows(manager: EntityManager, limit: number, begin: string): Promise<Row[]> {
    const { sql, name } = this.claimSql(limit);
    const runner = manager.queryRunner;
    if (runner === undefined) {
      // A manager of no query runner (bench/explain-indexes records the SQL): one statement.
      if (begin !== '') throw new TypeError('openAndClaim() needs a query runner’s manager');
      return this.run<Row[]>(manager, sql);
    }
    const client = (await runner.connect()) as PgClient;
    const prepared = this.prepared;
    const names = this.preparedOn.get(client);
    const statement = !prepared
      ? sql
      : names?.has(name)
        ? `EXECUTE ${name}`
        : `PREPARE ${name} AS ${sql}; EXECUTE ${name}`;
    let results: PgResult<Row> | PgResult<Row>[];
    try {
      results = await client.query<Row>(begin + statement);
    } catch (error) {
      const state = sqlState(error);
      if (isUndefinedTable(error)) throw new OutboxTableMissingError(this.table);
      if (!prepared || state === undefined || !STATEMENT_LOST.has(state)) throw error;
      if (this.prepared) {
        this.prepared = false;
        this.logger.warn(
          `The relay's prepared claim was lost between transactions (SQLSTATE ${state}): a transaction-pooling proxy such as PgBouncer in transaction mode is in the way. Claims are planned each time from now on; set OUTBOX_PREPARED_STATEMENTS=false to start that way.`,
        );
      }
      throw new PreparedClaimLostError(state);
    }
    if (prepared) {
      if (names) names.add(name);
      else this.preparedOn.set(client, new Set([name]));
    }
    // Several statements in one message answer with one result each; the claim's is last.
    return (Array.isArray(results) ? results[results.length - 1] : results).rows;
  }

  /**
   * Whether a claim would find a row now: one probe of the pending index, no lock, no
   * transaction. The relay polls it for a few milliseconds after running dry.
   */
  async hasDue(manager: EntityManager): Promise<boolean> {
    const [row] = await this.run<{ due: boolean }[]>(
      manager,
      `SELECT EXISTS (
         SELECT 1 FROM ${this.table} o
          WHERE ${this.due}) AS due`,
    );
    return row.due;
  }

  async commit(manager: EntityManager): Promise<void> {
    await manager.query('COMMIT');
  }

  /** Harmless when no transaction is open. */
  async rollback(manager: EntityManager): Promise<void> {
    await manager.query('ROLLBACK');
  }

  /**
   * Marks rows published, in one statement; with a retention of 0 it deletes them instead.
   * Call it in the transaction that claimed them.
   */
  async markPublished(manager: EntityManager, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.run(
      manager,
      this.options.retentionMs === 0
        ? `DELETE FROM ${this.table} WHERE id = ANY($1::bigint[])`
        : `UPDATE ${this.table} SET published_at = now() WHERE id = ANY($1::bigint[])`,
      [ids],
    );
  }

  /**
   * Counts an attempt for each failed row and schedules its retry, or gives it up (dead
   * letter). One statement for the whole batch.
   */
  async recordFailures(manager: EntityManager, failures: readonly EventFailure[]): Promise<void> {
    if (failures.length === 0) return;
    await this.run(
      manager,
      `UPDATE ${this.table} t
          SET attempts = t.attempts + 1,
              last_error = u.error,
              next_attempt_at = now() + u.retry_in_ms * interval '1 millisecond',
              failed_at = CASE WHEN u.give_up THEN now() END
         FROM unnest($1::bigint[], $2::text[], $3::float8[], $4::bool[])
              AS u(id, error, retry_in_ms, give_up)
        WHERE t.id = u.id`,
      [
        failures.map((f) => f.id),
        failures.map((f) => f.error.slice(0, 1_000)),
        failures.map((f) => f.retryInMs),
        failures.map((f) => f.giveUp),
      ],
    );
  }

  private run<T = unknown>(manager: EntityManager, sql: string, parameters?: unknown[]) {
    return runOutboxQuery<T>(manager, this.table, sql, parameters);
  }
}

/**
 * The envelope of a claimed row. Its payload is parsed only if something reads it: the NATS
 * serializer splices `payloadJson` into the body instead. A plain object with its own getter,
 * so that spreading or stringifying it still yields the payload.
 */
function envelopeOf(row: Row): EventEnvelope {
  let payload: unknown;
  let parsed = false;
  return {
    event_id: row.event_id,
    event_type: row.event_type,
    event_version: row.event_version,
    aggregate_type: row.aggregate_type,
    aggregate_id: row.aggregate_id,
    occurred_at: row.occurred_at,
    get payload(): unknown {
      if (!parsed) {
        payload = JSON.parse(row.payload_json);
        parsed = true;
      }
      return payload;
    },
  };
}
