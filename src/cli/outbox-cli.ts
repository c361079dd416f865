import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import {
  OutboxAdminRepository,
  OutboxError,
  resolveOutboxOptions,
  type FailedEventFilter,
} from '../outbox/index.js';

const USAGE = `Usage: npm run outbox -- failed <command>

  failed list [--type <event_type>] [--limit <n>]   list dead letters (default limit 100)
  failed requeue <event_id>                         give one event a fresh attempt budget
  failed requeue --type <event_type>                ... every dead letter of that type
  failed purge <event_id> | --type <event_type>     delete dead letters for good

Reads DATABASE_URL and OUTBOX_TABLE / OUTBOX_SCHEMA like the service.`;

class UsageError extends Error {}

/** The operator's tool for dead letters; talks to the database directly, no Nest app needed. */
async function main(argv: string[]): Promise<void> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { type: { type: 'string' }, limit: { type: 'string' }, help: { type: 'boolean' } },
  });
  const [group, command, eventId] = positionals;
  if (values.help || group !== 'failed' || !command) throw new UsageError();

  const options = resolveOutboxOptions();
  const admin = new OutboxAdminRepository(options);
  const url = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const dataSource = await new DataSource({ type: 'postgres', url }).initialize();
  try {
    const manager = dataSource.manager;
    if (command === 'list') {
      const limit = values.limit === undefined ? 100 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new UsageError('--limit must be a positive integer');
      const failed = await admin.listFailed(manager, { eventType: values.type, limit });
      if (failed.length === 0) {
        console.log('No failed events.');
        return;
      }
      console.table(
        failed.map((f) => ({
          event_id: f.eventId,
          event_type: f.eventType,
          aggregate: `${f.aggregateType}/${f.aggregateId}`,
          attempts: f.attempts,
          failed_at: f.failedAt.toISOString(),
          last_error: f.lastError,
        })),
      );
      return;
    }
    const filter = filterFrom(eventId, values.type);
    if (command === 'requeue') {
      console.log(`Requeued ${await admin.requeue(manager, filter)} failed event(s).`);
    } else if (command === 'purge') {
      console.log(`Purged ${await admin.purgeFailed(manager, filter)} failed event(s).`);
    } else {
      throw new UsageError(`Unknown command "${command}"`);
    }
  } finally {
    await dataSource.destroy();
  }
}

function filterFrom(eventId: string | undefined, eventType: string | undefined): FailedEventFilter {
  if (eventId && !eventType) {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(eventId)) {
      throw new UsageError(`"${eventId}" is not an event id (a UUID)`);
    }
    return { eventId };
  }
  if (eventType && !eventId) return { eventType };
  throw new UsageError('Give either an event id or --type <event_type>');
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof UsageError) {
    if (error.message) console.error(error.message);
    console.error(USAGE);
    process.exit(2);
  }
  console.error(error instanceof OutboxError ? error.message : String(error));
  process.exit(1);
});
