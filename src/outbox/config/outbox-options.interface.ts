import type { EntityManager } from 'typeorm';
import type { OutboxMessageFormat } from '../transport/cloud-event.js';

/**
 * Options of `OutboxModule.forRoot()`. Every field is optional: a field left out is read from
 * its environment variable, and failing that takes its default. A field given here wins over
 * the environment.
 * @publicApi
 */
export interface OutboxModuleOptions {
  /**
   * Outbox table name; a plain SQL identifier. Env `OUTBOX_TABLE`.
   * @default 'event_outbox'
   */
  table?: string;
  /**
   * Schema of the outbox table; a plain SQL identifier. Env `OUTBOX_SCHEMA`.
   * @default the connection's search_path
   */
  schema?: string;
  /**
   * Cron expression (with seconds) of the relay's safety-net tick. Env `OUTBOX_RELAY_CRON`.
   * @default '* * * * * *' (every second)
   */
  relayCron?: string;
  /**
   * Whether this process runs the relay. Writers-only replicas turn it off. Env `OUTBOX_RELAY_ENABLED`.
   * @default true
   */
  relayEnabled?: boolean;
  /**
   * How the relay learns of new events between ticks. `notify`: a writer whose insert finds
   * the relay idle sends a PostgreSQL notification, so the relay starts within milliseconds of
   * the commit; writers pay nothing while the relay is busy. `off`: the cron tick only.
   * Env `OUTBOX_RELAY_WAKEUP`.
   * @default 'notify'
   */
  relayWakeup?: 'notify' | 'off';
  /**
   * With the wake-up, how long a relay that ran dry keeps polling (every 2 ms) before it goes
   * idle and asks writers to notify it. Steady traffic then sends no NOTIFY at all, for about
   * 2 ms more latency. 0: idle at once. Env `OUTBOX_RELAY_LINGER_MS`.
   * @default 0
   */
  relayLingerMs?: number;
  /**
   * Batches in flight at once in this process: one batch's claim and mark overlap another's
   * publishing. Env `OUTBOX_RELAY_CONCURRENCY`.
   * @default 2
   */
  relayConcurrency?: number;
  /**
   * Rows claimed per batch. Env `OUTBOX_BATCH_SIZE`.
   * @default 500
   */
  batchSize?: number;
  /**
   * Publishes awaiting a broker acknowledgement at once. Env `OUTBOX_MAX_IN_FLIGHT`.
   * @default 256
   */
  maxInFlight?: number;
  /**
   * How long to wait for one acknowledgement before counting the publish as failed.
   * Env `OUTBOX_PUBLISH_TIMEOUT_MS`.
   * @default 5000
   */
  publishTimeoutMs?: number;
  /**
   * How long shutdown waits for the batch in flight. Env `OUTBOX_SHUTDOWN_TIMEOUT_MS`.
   * @default 10000
   */
  shutdownTimeoutMs?: number;
  /**
   * Largest accepted payload, in bytes of JSON. Env `OUTBOX_MAX_PAYLOAD_BYTES`.
   * @default 1000000 (NATS' default max_payload is 1 MiB for the whole message)
   */
  maxPayloadBytes?: number;
  /**
   * Refuse writes through an EntityManager that has no active transaction.
   * Env `OUTBOX_REQUIRE_TRANSACTION`.
   * @default true
   */
  requireTransaction?: boolean;
  /**
   * The broker: NATS JetStream or RabbitMQ. Env `OUTBOX_TRANSPORT`.
   * @default 'nats'
   */
  transport?: 'nats' | 'rabbitmq';
  /**
   * RabbitMQ URL. Env `RABBITMQ_URL`.
   * @default 'amqp://guest:guest@127.0.0.1:5672'
   */
  rabbitmqUrl?: string;
  /**
   * Durable topic exchange events are published to, with the event type as routing key.
   * Env `OUTBOX_EXCHANGE`.
   * @default 'edupulse.domain.events'
   */
  exchange?: string;
  /**
   * What travels: the plain JSON envelope, or a CloudEvents 1.0 event in binary content mode
   * (attributes as `ce-*` headers on NATS, `cloudEvents_*` headers on RabbitMQ; the payload as
   * the body) or structured content mode (the whole event as `application/cloudevents+json`).
   * Env `OUTBOX_MESSAGE_FORMAT`.
   * @default 'envelope'
   */
  messageFormat?: OutboxMessageFormat;
  /**
   * The CloudEvents `source`: a URI-reference naming this service, e.g. `/edupulse`. Required
   * with a CloudEvents `messageFormat`. Env `OUTBOX_CLOUDEVENTS_SOURCE`.
   * @default unset
   */
  cloudEventsSource?: string;
  /**
   * NATS servers. Env `NATS_SERVERS`, comma-separated.
   * @default ['nats://127.0.0.1:4222']
   */
  natsServers?: string[];
  /**
   * Subject prefix: an event is published on `<subjectPrefix>.<event_type>`. Env `OUTBOX_SUBJECT_PREFIX`.
   * @default 'edupulse.domain.events'
   */
  subjectPrefix?: string;
  /**
   * JetStream stream that captures `<subjectPrefix>.>`. Env `OUTBOX_STREAM`.
   * @default 'EDUPULSE_DOMAIN_EVENTS'
   */
  stream?: string;
  /**
   * Create the stream at start-up when it is missing. Env `OUTBOX_STREAM_CREATE`.
   * @default true
   */
  createStream?: boolean;
  /**
   * De-duplication window of a stream this module creates: a re-publish of the same event id
   * within it is dropped by JetStream. Env `OUTBOX_STREAM_DUPLICATE_WINDOW_MS`.
   * @default 120000
   */
  duplicateWindowMs?: number;
  /**
   * Failed publishes after which an event is given up (dead letter). Env `OUTBOX_MAX_ATTEMPTS`.
   * @default 10
   */
  maxAttempts?: number;
  /**
   * First retry delay; it doubles per attempt, with jitter. Env `OUTBOX_RETRY_BASE_MS`.
   * @default 1000
   */
  retryBaseMs?: number;
  /**
   * Longest retry delay. Env `OUTBOX_RETRY_MAX_MS`.
   * @default 300000
   */
  retryMaxMs?: number;
  /**
   * How long published rows are kept, in ms; 0 deletes a row when it is published.
   * Env `OUTBOX_RETENTION` (`7d`, `12h`, `30m`, `45s`, `0`).
   * @default 7 days
   */
  retentionMs?: number;
  /**
   * Cron expression of the retention purge. Env `OUTBOX_PURGE_CRON`.
   * @default '0 * * * * *' (every minute)
   */
  purgeCron?: string;
  /**
   * Rows deleted per purge statement. Env `OUTBOX_PURGE_BATCH_SIZE`.
   * @default 1000
   */
  purgeBatchSize?: number;
  /**
   * Pending events above which the backlog indicator reports `degraded`.
   * Env `OUTBOX_HEALTH_BACKLOG_WARN`. @default unset (report only)
   */
  healthBacklogWarn?: number;
  /**
   * Pending events above which the backlog indicator reports `down`.
   * Env `OUTBOX_HEALTH_BACKLOG_MAX`. @default unset (report only)
   */
  healthBacklogMax?: number;
  /**
   * Age in ms of the oldest pending event above which the backlog is `degraded`.
   * Env `OUTBOX_HEALTH_LAG_WARN_MS`. @default unset (report only)
   */
  healthLagWarnMs?: number;
  /**
   * Age in ms of the oldest pending event above which the backlog is `down`.
   * Env `OUTBOX_HEALTH_LAG_MAX_MS`. @default unset (report only)
   */
  healthLagMaxMs?: number;
  /**
   * The backlog count stops at this many rows and reports "at least" past it, so a probe
   * stays cheap on a huge backlog. Env `OUTBOX_HEALTH_COUNT_CAP`. @default 10000
   */
  healthCountCap?: number;
  /**
   * Timeout of each health probe. Env `OUTBOX_HEALTH_TIMEOUT_MS`. @default 1000
   */
  healthTimeoutMs?: number;
  /**
   * The relay indicator is `down` when no tick or batch completed for this many cron periods.
   * Env `OUTBOX_HEALTH_RELAY_STALL_PERIODS`. @default 10
   */
  healthRelayStallPeriods?: number;
  /**
   * Returns the caller's current EntityManager for `OutboxRepository.record()`, to join an
   * ambient transaction: with `@nestjs-cls/transactional`,
   * `() => TransactionHost.getInstance<TransactionalAdapterTypeOrm>().tx`. Code only.
   * @default the DataSource's manager (no transaction: `record()` is refused)
   */
  entityManagerResolver?: () => EntityManager;
  /**
   * Where unset fields are read from; tests pass their own.
   * @default process.env
   */
  env?: Record<string, string | undefined>;
}

/**
 * The options after validation, with every default applied.
 * @publicApi
 */
export interface ResolvedOutboxOptions {
  readonly entityManagerResolver: (() => EntityManager) | undefined;
  readonly table: string;
  readonly schema: string | undefined;
  readonly relayCron: string;
  readonly relayEnabled: boolean;
  readonly relayWakeup: 'notify' | 'off';
  readonly relayConcurrency: number;
  readonly relayLingerMs: number;
  readonly batchSize: number;
  readonly maxInFlight: number;
  readonly publishTimeoutMs: number;
  readonly shutdownTimeoutMs: number;
  readonly maxPayloadBytes: number;
  readonly requireTransaction: boolean;
  readonly transport: 'nats' | 'rabbitmq';
  readonly rabbitmqUrl: string;
  readonly exchange: string;
  readonly messageFormat: OutboxMessageFormat;
  readonly cloudEventsSource: string | undefined;
  readonly natsServers: readonly string[];
  readonly subjectPrefix: string;
  readonly stream: string;
  readonly createStream: boolean;
  readonly duplicateWindowMs: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  readonly retentionMs: number;
  readonly purgeCron: string;
  readonly purgeBatchSize: number;
  readonly healthBacklogWarn: number | undefined;
  readonly healthBacklogMax: number | undefined;
  readonly healthLagWarnMs: number | undefined;
  readonly healthLagMaxMs: number | undefined;
  readonly healthCountCap: number;
  readonly healthTimeoutMs: number;
  readonly healthRelayStallPeriods: number;
}
