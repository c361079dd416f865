import { defineSetting } from '../config/setting.js';
import { cron, duration, identifier, integer } from '../config/setting-schemas.js';

/** Every setting of `OutboxInboxModule`, with its variable and default. @publicApi */
export const INBOX_SETTINGS = [
  defineSetting({
    path: 'table',
    option: 'table',
    env: 'OUTBOX_INBOX_TABLE',
    default: 'event_inbox',
    description: 'Inbox table name (a plain lower-case SQL identifier)',
    schema: identifier,
  }),
  defineSetting({
    path: 'schema',
    option: 'schema',
    env: 'OUTBOX_INBOX_SCHEMA',
    default: undefined,
    description: "Schema of the inbox table; empty = the connection's search_path",
    schema: identifier.optional(),
  }),
  defineSetting({
    path: 'keepFor',
    option: 'retentionMs',
    env: 'OUTBOX_INBOX_RETENTION',
    default: '7d',
    description:
      'How long processed event ids are kept (7d, 12h, 30m, 45s); later copies run again',
    // 0 would forget an event as soon as it is processed: no de-duplication at all.
    schema: duration.refine((ms) => ms > 0, 'must be more than 0'),
  }),
  defineSetting({
    path: 'purgeCron',
    option: 'purgeCron',
    env: 'OUTBOX_INBOX_PURGE_CRON',
    default: '0 * * * * *',
    description: 'Cron expression of the purge of old inbox rows',
    schema: cron,
  }),
  defineSetting({
    path: 'purgeBatchSize',
    option: 'purgeBatchSize',
    env: 'OUTBOX_INBOX_PURGE_BATCH_SIZE',
    default: '1000',
    description: 'Inbox rows deleted per purge statement',
    schema: integer(1, 100_000),
  }),
] as const;
