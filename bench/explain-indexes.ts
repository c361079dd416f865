import 'reflect-metadata';
import { groupOutboxOptions } from '../tools/flat-outbox-options.js';
import { Client } from 'pg';
import type { EntityManager } from 'typeorm';
import { resolveOutboxOptions } from '../src/outbox/config/resolve-outbox-options.js';
import { OutboxDeadLetterRepository } from '../src/outbox/dead-letters/outbox-dead-letter.repository.js';
import { OutboxRelayStore } from '../src/outbox/relay/outbox-relay.store.js';
import { OutboxBacklogReader } from '../src/outbox/table/outbox-backlog.reader.js';
import { dropOutboxTableSql } from '../src/outbox/table/outbox-table.sql.js';
import { envNumber } from './bench-support.js';
import { BenchOutbox, connectServices } from './outbox-fixture.js';

/** A statement exactly as the library sent it. */
interface Statement {
  readonly sql: string;
  readonly parameters: unknown[];
}

/** One library call, the statements it sends, and the indexes it is meant to use. */
interface Query {
  readonly name: string;
  readonly indexes: readonly string[];
  readonly statements: readonly Statement[];
}

const TOTAL = envNumber('BENCH_EXPLAIN_ROWS', 300_000);
const PUBLISHED = Math.round(TOTAL * 0.7);
const RETRYING = 100;
const DEAD = 50;
const WITHOUT_LIMIT_MS = 5_000;
const QUERY_CANCELED = '57014';

/**
 * `node dist/bench/explain-indexes.js`: the outbox table's indexes against the queries that
 * read them. It fills a table of its own (70 % published, the rest pending, 100 rows waiting
 * for a retry and 50 dead letters), records the SQL the library's own classes send (relay
 * store, backlog reader, dead letters and retention), and prints, as markdown, each query's
 * `EXPLAIN (ANALYZE, BUFFERS)` with every index in place, then the time of the same query with
 * each index it is meant to use dropped (inside a transaction that rolls back).
 */
async function main(): Promise<void> {
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const { admin, close } = await connectServices(
    databaseUrl,
    process.env.BENCH_NATS_URL ?? 'nats://127.0.0.1:4222',
  );
  const fixture = new BenchOutbox(admin, undefined, 'bench_explain');
  const client = new Client({ connectionString: databaseUrl });
  try {
    await fixture.createSeeded(TOTAL);
    const table = fixture.table;
    await admin.query(
      `UPDATE "${table}" SET published_at = now() - (${PUBLISHED} - id) * interval '10 ms'
        WHERE id <= ${PUBLISHED}`,
    );
    await admin.query(
      `UPDATE "${table}" SET attempts = 2, next_attempt_at = now() + interval '1 hour',
                             last_error = 'broker said no'
        WHERE id IN (SELECT id FROM "${table}" WHERE id > ${PUBLISHED} ORDER BY id DESC LIMIT ${RETRYING})`,
    );
    await admin.query(
      `UPDATE "${table}" SET attempts = 5, failed_at = now(), last_error = 'too large'
        WHERE id IN (SELECT id FROM "${table}" WHERE id > ${PUBLISHED} AND attempts = 0
                      ORDER BY id DESC LIMIT ${DEAD})`,
    );
    await admin.query(`VACUUM ANALYZE "${table}"`);
    await client.connect();
    const indexes = await indexesOf(client, table);
    const queries = await libraryQueries(client, table);
    const out: string[] = [
      `Table: ${TOTAL.toLocaleString('en')} rows, ${PUBLISHED.toLocaleString('en')} published, ` +
        `${(TOTAL - PUBLISHED - RETRYING - DEAD).toLocaleString('en')} pending and due, ` +
        `${RETRYING} waiting for a retry, ${DEAD} dead letters; ~1 KB payloads, 1,000 aggregates.`,
      '',
      '| index | size | definition |',
      '| --- | --- | --- |',
      ...indexes.map((i) => `| \`${i.name}\` | ${i.size} | \`${i.definition}\` |`),
    ];
    for (const query of queries) {
      out.push('', `#### ${query.name}`, '');
      for (const statement of query.statements) {
        const plan = await explain(client, statement);
        out.push('<details><summary>plan</summary>', '', '```', shorten(plan.text), '```', '');
        out.push('</details>', '');
        for (const short of query.indexes) {
          const index = indexes.find((i) => i.name.endsWith(short));
          if (!index) throw new Error(`no index ending in ${short}`);
          const without = await explain(client, statement, index);
          out.push(
            `- without \`${short}\`: ${without.ms} ms (with it: ${plan.ms} ms); top node: ` +
              `\`${without.text
                .split('\n')[0]
                .replace(/\s+\(cost.*$/, '')
                .trim()}\``,
          );
        }
      }
    }
    console.log(out.join('\n'));
  } finally {
    await client.end().catch(() => undefined);
    await admin.query(dropOutboxTableSql(fixture.table));
    await close();
  }
}

/** Runs the library's own methods on a manager that records their SQL instead of running it. */
async function libraryQueries(client: Client, table: string): Promise<Query[]> {
  const options = resolveOutboxOptions(groupOutboxOptions({ table }));
  let recorded: Statement[] = [];
  // Every caller copes with one empty row: the statements matter here, not their answers.
  const manager = {
    query: (sql: string, parameters: unknown[] = []) => {
      recorded.push({ sql, parameters });
      return Promise.resolve([{}]);
    },
  } as unknown as EntityManager;
  const record = async (call: () => Promise<unknown>) => {
    recorded = [];
    await call();
    return recorded;
  };
  const store = new OutboxRelayStore(options);
  const reader = new OutboxBacklogReader(options);
  const admin = new OutboxDeadLetterRepository(options);
  const pendingIds = (
    await client.query<{ id: string }>(
      `SELECT id FROM "${table}" WHERE published_at IS NULL AND failed_at IS NULL
        ORDER BY id LIMIT $1`,
      [options.batchSize],
    )
  ).rows.map((r) => r.id);
  const [dead] = (
    await client.query<{ event_id: string }>(
      `SELECT event_id FROM "${table}" WHERE failed_at IS NOT NULL LIMIT 1`,
    )
  ).rows;
  return [
    {
      name: `relay: claim ${options.batchSize} (OutboxRelayStore.claim)`,
      indexes: ['_pending_idx', '_aggregate_pending_idx', '_retrying_idx'],
      statements: await record(() => store.claim(manager, options.batchSize)),
    },
    {
      name: 'relay: is anything due? (OutboxRelayStore.hasDue)',
      indexes: ['_pending_idx', '_retrying_idx'],
      statements: await record(() => store.hasDue(manager)),
    },
    {
      name: `relay: mark ${pendingIds.length} published (OutboxRelayStore.markPublished)`,
      indexes: ['_pkey'],
      statements: await record(() => store.markPublished(manager, pendingIds)),
    },
    {
      name: 'relay: record failures (OutboxRelayStore.recordFailures)',
      indexes: ['_pkey'],
      statements: await record(() =>
        store.recordFailures(
          manager,
          pendingIds.slice(0, 10).map((id) => ({ id, error: 'e', retryInMs: 1000, giveUp: false })),
        ),
      ),
    },
    {
      name: `health and metrics: backlog, capped at ${options.healthCountCap} (OutboxBacklogReader.backlog)`,
      indexes: ['_pending_idx', '_failed_idx'],
      statements: await record(() => reader.backlog(manager, options.healthCountCap)),
    },
    {
      name: 'dead letters: list (OutboxDeadLetterRepository.listFailed)',
      indexes: ['_failed_idx'],
      statements: await record(() => admin.listFailed(manager)),
    },
    {
      name: 'dead letters: requeue one event (OutboxDeadLetterRepository.requeue)',
      indexes: ['_event_id_key'],
      statements: await record(() => admin.requeue(manager, { eventId: dead.event_id })),
    },
    {
      name: 'dead letters: purge a type (OutboxDeadLetterRepository.purgeFailed)',
      indexes: ['_failed_idx'],
      statements: await record(() => admin.purgeFailed(manager, { eventType: 'bench.recorded' })),
    },
    {
      name: 'retention: purge 1,000 published rows older than 1 s (OutboxDeadLetterRepository.purgePublished)',
      indexes: ['_published_idx'],
      statements: await record(() => admin.purgePublished(manager, 1_000, 1_000)),
    },
  ];
}

/** EXPLAIN (ANALYZE, BUFFERS) in a transaction that rolls back, optionally without `dropIndex`. */
async function explain(client: Client, statement: Statement, dropIndex?: Index) {
  await client.query('BEGIN');
  try {
    if (dropIndex) {
      await client.query(
        dropIndex.constraint
          ? `ALTER TABLE "${dropIndex.table}" DROP CONSTRAINT "${dropIndex.name}"`
          : `DROP INDEX "${dropIndex.name}"`,
      );
      // Without its index a query may take minutes; how much slower is enough to know.
      await client.query(`SET LOCAL statement_timeout = ${WITHOUT_LIMIT_MS}`);
    }
    // Warm once so both sides read from shared buffers, not the disk.
    await client.query(`EXPLAIN (ANALYZE) ${statement.sql}`, statement.parameters);
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN (ANALYZE, BUFFERS) ${statement.sql}`,
      statement.parameters,
    );
    const text = rows.map((r) => r['QUERY PLAN']).join('\n');
    const ms = Number(/Execution Time: ([\d.]+) ms/.exec(text)?.[1] ?? NaN);
    return { text, ms: String(ms) };
  } catch (error) {
    if ((error as { code?: string }).code !== QUERY_CANCELED) throw error;
    return { text: 'cancelled', ms: `> ${WITHOUT_LIMIT_MS}` };
  } finally {
    await client.query('ROLLBACK');
  }
}

/** A 500-id array literal, as `{210001,210002,…,210500}`: the plan, not the ids, matters. */
function shorten(plan: string): string {
  return plan.trimEnd().replace(/\{(\d+),(\d+),[\d,]*,(\d+)\}/g, '{$1,$2,…,$3}');
}

interface Index {
  readonly table: string;
  readonly name: string;
  readonly size: string;
  readonly definition: string;
  /** Backs a primary key or unique constraint, which must be dropped instead. */
  readonly constraint: boolean;
}

async function indexesOf(client: Client, table: string): Promise<Index[]> {
  const { rows } = await client.query<Index>(
    `SELECT $2::text AS table, i.relname AS name, pg_size_pretty(pg_relation_size(i.oid)) AS size,
            regexp_replace(pg_get_indexdef(i.oid), '^.* USING ', 'USING ') AS definition,
            EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.oid) AS constraint
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
      WHERE x.indrelid = $1::regclass ORDER BY i.relname`,
    [`"${table}"`, table],
  );
  return rows;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
