import { z } from 'zod';
import { defineSetting } from './setting.js';
import { cron, duration, flag, identifier, integer, postgresUrl } from './setting-schemas.js';

// RFC 3986 characters only, percent-encodings well formed: "/edupulse", "urn:edupulse",
// "https://edupulse.example.com/api".
const uriReference = z
  .string()
  .trim()
  .regex(
    /^(?:[A-Za-z0-9._~:/?#[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2}){1,2048}$/,
    'must be a URI-reference, e.g. /edupulse or https://edupulse.example.com',
  );

/**
 * Every setting of `OutboxModule`, with its place in the options, its variable and its
 * default. The options' types, `.env.example` and the configuration reference come from here.
 * @publicApi
 */
export const OUTBOX_SETTINGS = [
  defineSetting({
    path: 'table',
    option: 'table',
    env: 'OUTBOX_TABLE',
    default: 'event_outbox',
    description: 'Outbox table name (a plain lower-case SQL identifier)',
    schema: identifier,
  }),
  defineSetting({
    path: 'schema',
    option: 'schema',
    env: 'OUTBOX_SCHEMA',
    default: undefined,
    description: "Schema of the outbox table; empty = the connection's search_path",
    schema: identifier.optional(),
  }),
  defineSetting({
    path: 'relay.cron',
    option: 'relayCron',
    env: 'OUTBOX_RELAY_CRON',
    default: '* * * * * *',
    description: 'Cron expression (seconds first) of the relay tick',
    schema: cron,
  }),
  defineSetting({
    path: 'relay.enabled',
    option: 'relayEnabled',
    env: 'OUTBOX_RELAY_ENABLED',
    default: 'true',
    description: 'Run the relay in this process (false for writer-only replicas)',
    schema: flag,
  }),
  defineSetting({
    path: 'relay.wakeup',
    option: 'relayWakeup',
    env: 'OUTBOX_RELAY_WAKEUP',
    default: 'notify',
    description:
      'notify: writers wake an idle relay with LISTEN/NOTIFY (ms latency); off: cron tick only',
    schema: z.enum(['notify', 'off'], { error: 'must be notify or off' }),
  }),
  defineSetting({
    path: 'relay.wakeupDatabaseUrl',
    option: 'wakeupDatabaseUrl',
    env: 'OUTBOX_WAKEUP_DATABASE_URL',
    default: undefined,
    description:
      'With the wake-up: a direct, session-capable PostgreSQL URL used only for LISTEN (behind PgBouncer in transaction mode); empty = the main connection',
    secret: true,
    schema: postgresUrl.optional(),
  }),
  defineSetting({
    path: 'relay.lingerMs',
    option: 'relayLingerMs',
    env: 'OUTBOX_RELAY_LINGER_MS',
    default: '0',
    description:
      'With the wake-up: ms a relay that ran dry keeps polling before writers must notify it (0-10000)',
    schema: integer(0, 10_000),
  }),
  defineSetting({
    path: 'relay.concurrency',
    option: 'relayConcurrency',
    env: 'OUTBOX_RELAY_CONCURRENCY',
    default: '2',
    description: 'Batches in flight at once per relay: claims and marks overlap publishing (1-8)',
    schema: integer(1, 8),
  }),
  defineSetting({
    path: 'relay.batchSize',
    option: 'batchSize',
    env: 'OUTBOX_BATCH_SIZE',
    default: '500',
    description: 'Rows claimed and published per batch (1-10000)',
    schema: integer(1, 10_000),
  }),
  defineSetting({
    path: 'relay.maxInFlight',
    option: 'maxInFlight',
    env: 'OUTBOX_MAX_IN_FLIGHT',
    default: '256',
    description: 'Publishes awaiting a broker acknowledgement at once (1-10000)',
    schema: integer(1, 10_000),
  }),
  defineSetting({
    path: 'relay.publishTimeoutMs',
    option: 'publishTimeoutMs',
    env: 'OUTBOX_PUBLISH_TIMEOUT_MS',
    default: '5000',
    description: 'Milliseconds to wait for one broker acknowledgement',
    schema: integer(1, 600_000),
  }),
  defineSetting({
    path: 'relay.preparedStatements',
    option: 'preparedStatements',
    env: 'OUTBOX_PREPARED_STATEMENTS',
    default: 'true',
    description:
      "Prepare the relay's claim once per connection instead of planning it for every batch; turns itself off the first time a transaction-pooling proxy (PgBouncer in transaction mode) loses it",
    schema: flag,
  }),
  defineSetting({
    path: 'relay.shutdownTimeoutMs',
    option: 'shutdownTimeoutMs',
    env: 'OUTBOX_SHUTDOWN_TIMEOUT_MS',
    default: '10000',
    description: 'Milliseconds shutdown waits for the batch in flight to be marked',
    schema: integer(0, 600_000),
  }),
  defineSetting({
    path: 'write.maxPayloadBytes',
    option: 'maxPayloadBytes',
    env: 'OUTBOX_MAX_PAYLOAD_BYTES',
    default: '1000000',
    description: 'Largest accepted event payload, in bytes of JSON',
    schema: integer(1, 64 * 1024 * 1024),
  }),
  defineSetting({
    path: 'write.requireTransaction',
    option: 'requireTransaction',
    env: 'OUTBOX_REQUIRE_TRANSACTION',
    default: 'true',
    description: "Refuse outbox writes outside the caller's transaction",
    schema: flag,
  }),
  defineSetting({
    path: 'messages.format',
    option: 'messageFormat',
    env: 'OUTBOX_MESSAGE_FORMAT',
    default: 'envelope',
    description: 'What travels: envelope, cloudevents-binary or cloudevents-structured',
    schema: z.enum(['envelope', 'cloudevents-binary', 'cloudevents-structured'], {
      error: 'must be envelope, cloudevents-binary or cloudevents-structured',
    }),
  }),
  defineSetting({
    path: 'messages.cloudEventsSource',
    option: 'cloudEventsSource',
    env: 'OUTBOX_CLOUDEVENTS_SOURCE',
    default: undefined,
    description:
      'CloudEvents source, a URI-reference naming this service; required with cloudevents-*',
    // It travels in every message: a URL with credentials would hand them to every consumer.
    secret: true,
    schema: uriReference
      .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(v), 'must not hold credentials')
      .optional(),
  }),
  defineSetting({
    path: 'retry.maxAttempts',
    option: 'maxAttempts',
    env: 'OUTBOX_MAX_ATTEMPTS',
    default: '10',
    description: 'Failed publishes after which an event is given up (dead letter)',
    schema: integer(1, 1_000),
  }),
  defineSetting({
    path: 'retry.baseMs',
    option: 'retryBaseMs',
    env: 'OUTBOX_RETRY_BASE_MS',
    default: '1000',
    description: 'First retry delay (ms); doubles per attempt, with jitter',
    schema: integer(1, 86_400_000),
  }),
  defineSetting({
    path: 'retry.maxMs',
    option: 'retryMaxMs',
    env: 'OUTBOX_RETRY_MAX_MS',
    default: '300000',
    description: 'Longest retry delay (ms)',
    schema: integer(1, 86_400_000),
  }),
  defineSetting({
    path: 'retention.keepFor',
    option: 'retentionMs',
    env: 'OUTBOX_RETENTION',
    default: '7d',
    description: 'How long published rows are kept (7d, 12h, 30m, 45s); 0 = delete on publish',
    schema: duration,
  }),
  defineSetting({
    path: 'retention.purgeCron',
    option: 'purgeCron',
    env: 'OUTBOX_PURGE_CRON',
    default: '0 * * * * *',
    description: 'Cron expression of the retention purge',
    schema: cron,
  }),
  defineSetting({
    path: 'retention.purgeBatchSize',
    option: 'purgeBatchSize',
    env: 'OUTBOX_PURGE_BATCH_SIZE',
    default: '1000',
    description: 'Rows deleted per purge statement',
    schema: integer(1, 100_000),
  }),
  defineSetting({
    path: 'health.backlogWarn',
    option: 'healthBacklogWarn',
    env: 'OUTBOX_HEALTH_BACKLOG_WARN',
    default: undefined,
    description: 'Pending events above which health reports degraded; empty = report only',
    schema: integer(0, 1_000_000_000).optional(),
  }),
  defineSetting({
    path: 'health.backlogMax',
    option: 'healthBacklogMax',
    env: 'OUTBOX_HEALTH_BACKLOG_MAX',
    default: undefined,
    description: 'Pending events above which health reports down; empty = report only',
    schema: integer(0, 1_000_000_000).optional(),
  }),
  defineSetting({
    path: 'health.lagWarnMs',
    option: 'healthLagWarnMs',
    env: 'OUTBOX_HEALTH_LAG_WARN_MS',
    default: '300000',
    description:
      'Age (ms) of the oldest pending event above which backlog health reports degraded (5 min: a stalled outbox shows)',
    schema: integer(0, 365 * 24 * 3_600_000).optional(),
  }),
  defineSetting({
    path: 'health.lagMaxMs',
    option: 'healthLagMaxMs',
    env: 'OUTBOX_HEALTH_LAG_MAX_MS',
    default: undefined,
    description: 'Age (ms) of the oldest pending event above which health reports down',
    schema: integer(0, 365 * 24 * 3_600_000).optional(),
  }),
  defineSetting({
    path: 'health.countCap',
    option: 'healthCountCap',
    env: 'OUTBOX_HEALTH_COUNT_CAP',
    default: '10000',
    description: 'The backlog count stops here and reports "at least N"',
    schema: integer(1, 10_000_000),
  }),
  defineSetting({
    path: 'health.timeoutMs',
    option: 'healthTimeoutMs',
    env: 'OUTBOX_HEALTH_TIMEOUT_MS',
    default: '1000',
    description: 'Timeout of each health probe (ms)',
    schema: integer(1, 60_000),
  }),
  defineSetting({
    path: 'health.relayStallPeriods',
    option: 'healthRelayStallPeriods',
    env: 'OUTBOX_HEALTH_RELAY_STALL_PERIODS',
    default: '10',
    description: 'Relay health is down after this many cron periods without progress',
    schema: integer(1, 10_000),
  }),
] as const;
