import { z } from 'zod';
import type { ResolvedOutboxOptions } from './outbox-options.interface.js';
import type { Setting } from './setting.js';
import { cron, duration, flag, identifier, integer } from './setting-schemas.js';

/**
 * One configurable setting of the outbox: its option name, its environment variable, the
 * default, the rule and the line `.env.example` shows. Every setting is declared here once,
 * so the option, the variable, the validation and the documentation cannot drift apart.
 */
export type OutboxSetting<K extends keyof ResolvedOutboxOptions = keyof ResolvedOutboxOptions> =
  Setting<ResolvedOutboxOptions, K>;

// A NATS subject token may not contain whitespace, '.', '*' or '>'.
const subjectToken = '[A-Za-z0-9_-]+';
const natsUrl = z
  .string()
  .trim()
  .regex(/^(nats|tls|ws|wss):\/\/[^\s/]+$/, 'must be a nats:// (or tls://, ws://, wss://) URL');

// RFC 3986 characters only, percent-encodings well formed: "/edupulse", "urn:edupulse",
// "https://edupulse.example.com/api".
const uriReference = z
  .string()
  .trim()
  .regex(
    /^(?:[A-Za-z0-9._~:/?#[\]@!$&'()*+,;=-]|%[0-9A-Fa-f]{2}){1,2048}$/,
    'must be a URI-reference, e.g. /edupulse or https://edupulse.example.com',
  );

const setting = <K extends keyof ResolvedOutboxOptions>(s: OutboxSetting<K>) => s;

export const OUTBOX_SETTINGS = [
  setting({
    option: 'table',
    env: 'OUTBOX_TABLE',
    default: 'event_outbox',
    description: 'Outbox table name (a plain lower-case SQL identifier)',
    schema: identifier,
  }),
  setting({
    option: 'schema',
    env: 'OUTBOX_SCHEMA',
    default: undefined,
    description: "Schema of the outbox table; empty = the connection's search_path",
    schema: identifier.optional(),
  }),
  setting({
    option: 'relayCron',
    env: 'OUTBOX_RELAY_CRON',
    default: '* * * * * *',
    description: 'Cron expression (seconds first) of the relay tick',
    schema: cron,
  }),
  setting({
    option: 'relayEnabled',
    env: 'OUTBOX_RELAY_ENABLED',
    default: 'true',
    description: 'Run the relay in this process (false for writer-only replicas)',
    schema: flag,
  }),
  setting({
    option: 'relayWakeup',
    env: 'OUTBOX_RELAY_WAKEUP',
    default: 'notify',
    description:
      'notify: writers wake an idle relay with LISTEN/NOTIFY (ms latency); off: cron tick only',
    schema: z.enum(['notify', 'off'], { error: 'must be notify or off' }),
  }),
  setting({
    option: 'relayLingerMs',
    env: 'OUTBOX_RELAY_LINGER_MS',
    default: '0',
    description:
      'With the wake-up: ms a relay that ran dry keeps polling before writers must notify it (0-10000)',
    schema: integer(0, 10_000),
  }),
  setting({
    option: 'relayConcurrency',
    env: 'OUTBOX_RELAY_CONCURRENCY',
    default: '2',
    description: 'Batches in flight at once per relay: claims and marks overlap publishing (1-8)',
    schema: integer(1, 8),
  }),
  setting({
    option: 'batchSize',
    env: 'OUTBOX_BATCH_SIZE',
    default: '500',
    description: 'Rows claimed and published per batch (1-10000)',
    schema: integer(1, 10_000),
  }),
  setting({
    option: 'maxInFlight',
    env: 'OUTBOX_MAX_IN_FLIGHT',
    default: '256',
    description: 'Publishes awaiting a broker acknowledgement at once (1-10000)',
    schema: integer(1, 10_000),
  }),
  setting({
    option: 'publishTimeoutMs',
    env: 'OUTBOX_PUBLISH_TIMEOUT_MS',
    default: '5000',
    description: 'Milliseconds to wait for one broker acknowledgement',
    schema: integer(1, 600_000),
  }),
  setting({
    option: 'shutdownTimeoutMs',
    env: 'OUTBOX_SHUTDOWN_TIMEOUT_MS',
    default: '10000',
    description: 'Milliseconds shutdown waits for the batch in flight to be marked',
    schema: integer(0, 600_000),
  }),
  setting({
    option: 'maxPayloadBytes',
    env: 'OUTBOX_MAX_PAYLOAD_BYTES',
    default: '1000000',
    description: 'Largest accepted event payload, in bytes of JSON',
    schema: integer(1, 64 * 1024 * 1024),
  }),
  setting({
    option: 'requireTransaction',
    env: 'OUTBOX_REQUIRE_TRANSACTION',
    default: 'true',
    description: "Refuse outbox writes outside the caller's transaction",
    schema: flag,
  }),
  setting({
    option: 'transport',
    env: 'OUTBOX_TRANSPORT',
    default: 'nats',
    description: 'Broker: nats (JetStream) or rabbitmq',
    schema: z.enum(['nats', 'rabbitmq'], { error: 'must be nats or rabbitmq' }),
  }),
  setting({
    option: 'rabbitmqUrl',
    env: 'RABBITMQ_URL',
    default: 'amqp://guest:guest@127.0.0.1:5672',
    description: 'RabbitMQ URL (OUTBOX_TRANSPORT=rabbitmq)',
    schema: z
      .string()
      .trim()
      .regex(/^amqps?:\/\/\S+$/, 'must be an amqp:// or amqps:// URL'),
  }),
  setting({
    option: 'exchange',
    env: 'OUTBOX_EXCHANGE',
    default: 'edupulse.domain.events',
    description: 'RabbitMQ topic exchange; routing key = event type',
    schema: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'must be letters, digits, ., _, : or -'),
  }),
  setting({
    option: 'messageFormat',
    env: 'OUTBOX_MESSAGE_FORMAT',
    default: 'envelope',
    description: 'What travels: envelope, cloudevents-binary or cloudevents-structured',
    schema: z.enum(['envelope', 'cloudevents-binary', 'cloudevents-structured'], {
      error: 'must be envelope, cloudevents-binary or cloudevents-structured',
    }),
  }),
  setting({
    option: 'cloudEventsSource',
    env: 'OUTBOX_CLOUDEVENTS_SOURCE',
    default: undefined,
    description:
      'CloudEvents source, a URI-reference naming this service; required with cloudevents-*',
    schema: uriReference.optional(),
  }),
  setting({
    option: 'natsServers',
    env: 'NATS_SERVERS',
    default: 'nats://127.0.0.1:4222',
    description: 'Comma-separated NATS server URLs',
    schema: z
      .union([z.array(z.string()), z.string().transform((v) => v.split(','))])
      .pipe(z.array(natsUrl).min(1, 'needs at least one server')),
  }),
  setting({
    option: 'subjectPrefix',
    env: 'OUTBOX_SUBJECT_PREFIX',
    default: 'edupulse.domain.events',
    description: 'Events are published on <prefix>.<event_type> (200 characters at most)',
    schema: z
      .string()
      .max(200, 'must be 200 characters at most')
      .regex(
        new RegExp(`^${subjectToken}(\\.${subjectToken})*$`),
        'must be dot-separated NATS subject tokens without wildcards or spaces',
      ),
  }),
  setting({
    option: 'stream',
    env: 'OUTBOX_STREAM',
    default: 'EDUPULSE_DOMAIN_EVENTS',
    description: 'JetStream stream capturing <prefix>.>',
    schema: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be letters, digits, _ or -'),
  }),
  setting({
    option: 'createStream',
    env: 'OUTBOX_STREAM_CREATE',
    default: 'true',
    description: 'Create the stream at start-up when it is missing',
    schema: flag,
  }),
  setting({
    option: 'duplicateWindowMs',
    env: 'OUTBOX_STREAM_DUPLICATE_WINDOW_MS',
    default: '120000',
    description: 'De-duplication window (by Nats-Msg-Id) of a stream created here',
    schema: integer(1_000, 7 * 24 * 3_600_000),
  }),
  setting({
    option: 'maxAttempts',
    env: 'OUTBOX_MAX_ATTEMPTS',
    default: '10',
    description: 'Failed publishes after which an event is given up (dead letter)',
    schema: integer(1, 1_000),
  }),
  setting({
    option: 'retryBaseMs',
    env: 'OUTBOX_RETRY_BASE_MS',
    default: '1000',
    description: 'First retry delay (ms); doubles per attempt, with jitter',
    schema: integer(1, 86_400_000),
  }),
  setting({
    option: 'retryMaxMs',
    env: 'OUTBOX_RETRY_MAX_MS',
    default: '300000',
    description: 'Longest retry delay (ms)',
    schema: integer(1, 86_400_000),
  }),
  setting({
    option: 'retentionMs',
    env: 'OUTBOX_RETENTION',
    default: '7d',
    description: 'How long published rows are kept (7d, 12h, 30m, 45s); 0 = delete on publish',
    schema: duration,
  }),
  setting({
    option: 'purgeCron',
    env: 'OUTBOX_PURGE_CRON',
    default: '0 * * * * *',
    description: 'Cron expression of the retention purge',
    schema: cron,
  }),
  setting({
    option: 'purgeBatchSize',
    env: 'OUTBOX_PURGE_BATCH_SIZE',
    default: '1000',
    description: 'Rows deleted per purge statement',
    schema: integer(1, 100_000),
  }),
  setting({
    option: 'healthBacklogWarn',
    env: 'OUTBOX_HEALTH_BACKLOG_WARN',
    default: undefined,
    description: 'Pending events above which health reports degraded; empty = report only',
    schema: integer(0, 1_000_000_000).optional(),
  }),
  setting({
    option: 'healthBacklogMax',
    env: 'OUTBOX_HEALTH_BACKLOG_MAX',
    default: undefined,
    description: 'Pending events above which health reports down; empty = report only',
    schema: integer(0, 1_000_000_000).optional(),
  }),
  setting({
    option: 'healthLagWarnMs',
    env: 'OUTBOX_HEALTH_LAG_WARN_MS',
    default: undefined,
    description: 'Age (ms) of the oldest pending event above which health reports degraded',
    schema: integer(0, 365 * 24 * 3_600_000).optional(),
  }),
  setting({
    option: 'healthLagMaxMs',
    env: 'OUTBOX_HEALTH_LAG_MAX_MS',
    default: undefined,
    description: 'Age (ms) of the oldest pending event above which health reports down',
    schema: integer(0, 365 * 24 * 3_600_000).optional(),
  }),
  setting({
    option: 'healthCountCap',
    env: 'OUTBOX_HEALTH_COUNT_CAP',
    default: '10000',
    description: 'The backlog count stops here and reports "at least N"',
    schema: integer(1, 10_000_000),
  }),
  setting({
    option: 'healthTimeoutMs',
    env: 'OUTBOX_HEALTH_TIMEOUT_MS',
    default: '1000',
    description: 'Timeout of each health probe (ms)',
    schema: integer(1, 60_000),
  }),
  setting({
    option: 'healthRelayStallPeriods',
    env: 'OUTBOX_HEALTH_RELAY_STALL_PERIODS',
    default: '10',
    description: 'Relay health is down after this many cron periods without progress',
    schema: integer(1, 10_000),
  }),
] as const satisfies readonly OutboxSetting[];
