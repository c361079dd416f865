#!/usr/bin/env node
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { OUTBOX_SETTINGS } from '../config/outbox-settings.js';
import { outboxOptionsFromEnv } from '../config/resolve-outbox-options.js';
import { resolveSettings } from '../config/setting.js';
import { postgresUrl } from '../config/setting-schemas.js';
import { isUuid } from '../utils/uuid.js';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import {
  OutboxDeadLetterRepository,
  type FailedEventFilter,
} from '../dead-letters/outbox-dead-letter.repository.js';
import { OutboxConfigError } from '../errors/outbox-config.error.js';
import { OutboxError } from '../errors/outbox.error.js';

const USAGE = `Usage: nestjs-pg-outbox dead-letters <command>

  dead-letters list [--type <event_type>] [--limit <n>]   list dead letters (default limit 100)
  dead-letters requeue <event_id>                         give one a fresh attempt budget
  dead-letters requeue --type <event_type>                ... every dead letter of that type
  dead-letters purge <event_id> | --type <event_type>     delete dead letters for good

"failed" is accepted for "dead-letters". Reads DATABASE_URL, OUTBOX_TABLE and OUTBOX_SCHEMA,
as the service does.`;

const MAX_LIMIT = 10_000;
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

class UsageError extends Error {}

/** The operator's tool for dead letters; talks to the database directly, no Nest app needed. */
async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { type: { type: 'string' }, limit: { type: 'string' }, help: { type: 'boolean' } },
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { positionals, values } = parsed;
  const [group, command, eventId] = positionals;
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if ((group !== 'dead-letters' && group !== 'failed') || !command) throw new UsageError();
  if (!['list', 'requeue', 'purge'].includes(command)) {
    throw new UsageError(`Unknown command "${command}": use list, requeue or purge`);
  }
  // Checked before connecting, so a typo costs no database round trip.
  const filter = command === 'list' ? undefined : filterFrom(eventId, values.type);

  const admin = new OutboxDeadLetterRepository(tableFromEnv());
  const url = databaseUrlFromEnv();
  const dataSource = await new DataSource({ type: 'postgres', url }).initialize();
  try {
    const manager = dataSource.manager;
    if (command === 'list') {
      const limit = values.limit === undefined ? 100 : Number(values.limit);
      if (!/^\d+$/.test(values.limit ?? '100') || limit < 1 || limit > MAX_LIMIT)
        throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}`);
      const failed = await admin.listFailed(manager, { eventType: values.type, limit });
      if (failed.length === 0) {
        console.log('No dead letters.');
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
    if (command === 'requeue') {
      console.log(`Requeued ${await admin.requeue(manager, filter!)} dead letter(s).`);
    } else {
      console.log(`Purged ${await admin.purgeFailed(manager, filter!)} dead letter(s).`);
    }
  } finally {
    await dataSource.destroy();
  }
}

/** The table the service writes to, from the same variables, validated as identifiers. */
function tableFromEnv(): ResolvedOutboxOptions {
  const names = OUTBOX_SETTINGS.filter((s) => s.path === 'table' || s.path === 'schema');
  return resolveSettings(names, outboxOptionsFromEnv(process.env), 'env') as ResolvedOutboxOptions;
}

/** `DATABASE_URL`, checked as the service checks it; its value is never echoed. */
function databaseUrlFromEnv(): string {
  const url = process.env.DATABASE_URL || DEFAULT_DATABASE_URL;
  if (!postgresUrl.safeParse(url).success) {
    throw new OutboxConfigError([{ source: 'DATABASE_URL', reason: 'must be a postgres:// URL' }]);
  }
  return url;
}

function filterFrom(eventId: string | undefined, eventType: string | undefined): FailedEventFilter {
  if (eventId && !eventType) {
    if (!isUuid(eventId)) {
      throw new UsageError(`"${String(eventId)}" is not an event id (a UUID)`);
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
