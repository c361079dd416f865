import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerMessages,
  type JsMsg,
} from '@nats-io/jetstream';
import {
  connect,
  headers,
  type ConnectionOptions,
  type NatsConnection,
} from '@nats-io/transport-node';
import { Logger } from '@nestjs/common';
import {
  NatsRequestJSONDeserializer,
  Server,
  Transport,
  type ConsumerDeserializer,
  type CustomTransportStrategy,
} from '@nestjs/microservices';
import { errorMessage } from '../errors/error-text.js';
import { afterFailure, checkedMaxDeliveries } from '../inbox/delivery-limit.js';
import { handlerFailure, handleToCompletion } from '../inbox/handle-to-completion.js';
import type { ConsumerInstrument } from '../instrumentation/consumer-instrument.js';
import { ConsumerInstrumentation } from '../instrumentation/consumer-instrumentation.js';
import { JetStreamContext } from './jetstream.context.js';
import { withUrlCredentials } from './nats-url-credentials.js';

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

/** @publicApi */
export interface ServerJetStreamOptions extends ConnectionOptions {
  /** The stream the events are stored in (the relay's `OUTBOX_STREAM`). */
  stream: string;
  /**
   * Name of this consumer group. Each `@EventPattern` gets one durable consumer,
   * `<durable>_<pattern>`, shared by every replica: each event goes to one of them.
   */
  durable: string;
  /**
   * Subject prefix (the relay's `OUTBOX_SUBJECT_PREFIX`): `@EventPattern('submission.received')`
   * consumes `<subjectPrefix>.submission.received`. Empty: the pattern is the whole subject.
   * @default ''
   */
  subjectPrefix?: string;
  /** How long the broker waits for an acknowledgement before redelivering. @default 30000 */
  ackWaitMs?: number;
  /** Delay before a message whose handler failed is delivered again. @default 1000 */
  retryDelayMs?: number;
  /**
   * Deliveries a message gets, the first included, before it is dead-lettered: terminated
   * (JetStream stops redelivering it; it stays in the stream at its sequence), after being
   * republished to `deadLetterSubject` when one is set. A message that can never succeed
   * (a body that is not JSON, no event id for the inbox) is dead-lettered at once.
   * @default 5
   */
  maxDeliveries?: number;
  /**
   * Where a dead-lettered message is republished, with its headers and `Outbox-Dead-Letter-*`
   * headers naming its stream sequence, subject and failure. A stream must capture it: the
   * message is terminated only once the republish was acknowledged. Left out, it is only
   * terminated and logged.
   */
  deadLetterSubject?: string;
  /** Messages fetched ahead per consumer; they are handled one after another. @default 10 */
  maxMessages?: number;
  /** Where a consumer created here starts: every stored event, or only new ones. @default 'all' */
  deliverPolicy?: 'all' | 'new';
  /** Turns a message into `{ data }`. @default Nest's NatsRequestJSONDeserializer */
  deserializer?: ConsumerDeserializer;
  /**
   * Told of each redelivery and dead letter, per pattern: `new ConsumerMetrics({ registry })`
   * from `nestjs-pg-outbox/metrics` counts them in Prometheus.
   */
  instrument?: ConsumerInstrument;
}

interface Subscription {
  readonly pattern: string;
  readonly subject: string;
  readonly durable: string;
}

/**
 * A Nest microservice transport that consumes `@EventPattern` handlers' events from a
 * JetStream stream, at least once. Nest's own NATS transport is core NATS: it drops what
 * arrives while the service is down and never redelivers. Here:
 *
 * - each pattern has a durable pull consumer with explicit acknowledgement;
 * - a message is acknowledged after its handler's work completed, and negatively
 *   acknowledged (redelivered after `retryDelayMs`) when the handler threw, at most
 *   `maxDeliveries` times in all; then it is dead-lettered (see `deadLetterSubject`);
 * - messages of one pattern are handled one after another, in stream order (a redelivery
 *   comes later);
 * - the body is the outbox envelope (or Nest's `{pattern, data}` packet) as JSON; a body that
 *   is not JSON can never succeed and is dead-lettered at once.
 *
 * NATS or the stream being away at start-up does not fail `listen()`: the server connects
 * and creates its consumers in the background, retrying with backoff.
 * ```ts
 * app.connectMicroservice({ strategy: new ServerJetStream({ servers, stream, durable: 'stats' }) });
 * ```
 * @publicApi
 */
export class ServerJetStream extends Server implements CustomTransportStrategy {
  override readonly transportId = Transport.NATS;
  // Handler failures reach this class (which naks), not Nest's "unhandled" logging.
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(ServerJetStream.name);
  private readonly connectionOptions: ConnectionOptions;
  private readonly stream: string;
  private readonly durable: string;
  private readonly subjectPrefix: string;
  private readonly ackWaitMs: number;
  private readonly retryDelayMs: number;
  private readonly maxDeliveries: number;
  private readonly deadLetterSubject: string | undefined;
  /** Messages dead-lettered by this server, for metrics and tests. */
  deadLetteredTotal = 0;
  private readonly maxMessages: number;
  private readonly deliverPolicy: DeliverPolicy;
  private readonly instrumentation: ConsumerInstrumentation;
  private connection: NatsConnection | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly consuming = new Set<ConsumerMessages>();
  private readonly pauses = new Set<() => void>();

  constructor({
    stream,
    durable,
    subjectPrefix = '',
    ackWaitMs = 30_000,
    retryDelayMs = 1_000,
    maxDeliveries,
    deadLetterSubject,
    maxMessages = 10,
    deliverPolicy = 'all',
    deserializer,
    instrument,
    ...connectionOptions
  }: ServerJetStreamOptions) {
    super();
    if (!/^[A-Za-z0-9_-]+$/.test(durable)) {
      throw new TypeError(`ServerJetStream durable must be letters, digits, _ or -: "${durable}"`);
    }
    this.stream = stream;
    this.durable = durable;
    this.subjectPrefix = subjectPrefix;
    this.ackWaitMs = ackWaitMs;
    this.retryDelayMs = retryDelayMs;
    this.maxDeliveries = checkedMaxDeliveries(maxDeliveries, 'ServerJetStream');
    this.deadLetterSubject = deadLetterSubject;
    this.maxMessages = maxMessages;
    this.deliverPolicy = deliverPolicy === 'new' ? DeliverPolicy.New : DeliverPolicy.All;
    this.deserializer = deserializer ?? new NatsRequestJSONDeserializer();
    this.instrumentation = new ConsumerInstrumentation('nats-jetstream', instrument);
    this.connectionOptions = withUrlCredentials({
      name: `nestjs-outbox-consumer-${durable}`,
      // nats.js gives up after 10 attempts by default; a consumer must outlive any outage.
      maxReconnectAttempts: -1,
      ...connectionOptions,
    });
  }

  listen(callback: (error?: unknown) => void): void {
    let subscriptions: Subscription[];
    try {
      subscriptions = this.subscriptions();
    } catch (error) {
      return callback(error);
    }
    for (const { pattern } of subscriptions) this.instrumentation.consuming(pattern);
    this.running = this.run(subscriptions);
    callback();
  }

  async close(): Promise<void> {
    this.stopped = true;
    for (const wake of this.pauses) wake();
    // Ends each loop after the message in hand: its handler finishes and it is acknowledged.
    await Promise.all([...this.consuming].map((messages) => messages.close()));
    await this.running;
    const connection = this.connection;
    this.connection = undefined;
    if (connection && !connection.isClosed()) {
      await connection.flush().catch(() => undefined);
      await connection.close();
    }
  }

  on(): never {
    throw new Error('ServerJetStream has no events; subscribe to its status instead');
  }

  unwrap<T>(): T {
    if (!this.connection) throw new Error('ServerJetStream is not connected yet');
    return this.connection as T;
  }

  /** One durable consumer per event pattern. */
  private subscriptions(): Subscription[] {
    const byDurable = new Map<string, Subscription>();
    for (const [pattern, handler] of this.getHandlers()) {
      if (!handler.isEventHandler) {
        this.logger.warn(`Ignoring @MessagePattern("${pattern}"): JetStream carries events only`);
        continue;
      }
      const durable = `${this.durable}_${pattern.replace(/\./g, '_').replace(/\*/g, 'any').replace(/>/g, 'all')}`;
      if (!/^[A-Za-z0-9_-]+$/.test(durable)) {
        throw new TypeError(`@EventPattern("${pattern}") is not a NATS subject of plain tokens`);
      }
      const taken = byDurable.get(durable);
      if (taken) {
        throw new TypeError(
          `@EventPattern("${pattern}") and @EventPattern("${taken.pattern}") would share the consumer ${durable}`,
        );
      }
      const subject = this.subjectPrefix ? `${this.subjectPrefix}.${pattern}` : pattern;
      byDurable.set(durable, { pattern, subject, durable });
    }
    return [...byDurable.values()];
  }

  private async run(subscriptions: Subscription[]): Promise<void> {
    const connection = await this.connect();
    if (!connection) return;
    await Promise.all(subscriptions.map((s) => this.consume(connection, s)));
  }

  private async connect(): Promise<NatsConnection | undefined> {
    for (let delay = FIRST_RETRY_MS; !this.stopped; delay = Math.min(delay * 2, MAX_RETRY_MS)) {
      try {
        const connection = await connect(this.connectionOptions);
        this.connection = connection;
        this._status$.next('connected');
        this.followStatus(connection).catch(() => undefined);
        return connection;
      } catch (error) {
        this.logger.warn(`NATS not reachable: ${errorMessage(error)}; retrying in ${delay} ms`);
        await this.pause(delay);
      }
    }
    return undefined;
  }

  /** Consumes one pattern until close(); re-creates the consumer if it disappears. */
  private async consume(connection: NatsConnection, subscription: Subscription): Promise<void> {
    for (let delay = FIRST_RETRY_MS; !this.stopped;) {
      try {
        const consumer = await this.ensureConsumer(connection, subscription);
        const messages = await consumer.consume({
          max_messages: this.maxMessages,
          // A deleted stream or consumer ends the loop, so it is created again.
          abort_on_missing_resource: true,
        });
        this.consuming.add(messages);
        if (this.stopped) await messages.close();
        delay = FIRST_RETRY_MS;
        try {
          for await (const message of messages) await this.handle(message, subscription.pattern);
        } finally {
          this.consuming.delete(messages);
        }
        if (!this.stopped) throw new Error('the message stream ended');
      } catch (error) {
        if (this.stopped) return;
        this.logger.warn(
          `Consumer ${subscription.durable} on stream ${this.stream}: ${errorMessage(error)}; retrying in ${delay} ms`,
        );
        await this.pause(delay);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
      }
    }
  }

  private async ensureConsumer(
    connection: NatsConnection,
    { subject, durable }: Subscription,
  ): Promise<Consumer> {
    const manager = await jetstreamManager(connection);
    // Idempotent: an existing consumer with the same filter keeps its position.
    await manager.consumers.add(this.stream, {
      durable_name: durable,
      filter_subject: subject,
      ack_policy: AckPolicy.Explicit,
      ack_wait: this.ackWaitMs * 1_000_000,
      deliver_policy: this.deliverPolicy,
    });
    return jetstream(connection).consumers.get(this.stream, durable);
  }

  private async handle(message: JsMsg, pattern: string): Promise<void> {
    // The ack timer ran while the message waited behind others fetched with it: restart it.
    message.working();
    const where = `stream sequence ${message.seq} (${message.subject}, delivery ${message.info.deliveryCount})`;
    let data: unknown;
    try {
      data = (await this.deserializer.deserialize(message, { channel: pattern })).data;
    } catch (error) {
      await this.deadLetter(
        message,
        pattern,
        where,
        `the body is not JSON (${errorMessage(error)})`,
      );
      return;
    }
    const handler = this.getHandlerByPattern(pattern)!;
    const context = new JetStreamContext(message);
    try {
      await handleToCompletion(
        (fn) => this.runWithProcessingHooks(context, fn),
        () => handler(data, context),
      );
      message.ack();
    } catch (error) {
      const failure = handlerFailure(error);
      if (afterFailure(error, message.info.deliveryCount, this.maxDeliveries) === 'dead-letter') {
        await this.deadLetter(
          message,
          pattern,
          where,
          `handler of "${pattern}" failed: ${failure}`,
        );
        return;
      }
      this.logger.warn(
        `Handler of "${pattern}" failed on ${where}; redelivering in ${this.retryDelayMs} ms: ${failure}`,
      );
      this.instrumentation.redelivered(pattern);
      message.nak(this.retryDelayMs);
    }
  }

  /**
   * Stops redelivering `message`, with one log line: republished to the dead-letter subject
   * first when there is one (and, should that fail, delivered again later rather than lost).
   */
  private async deadLetter(
    message: JsMsg,
    pattern: string,
    where: string,
    reason: string,
  ): Promise<void> {
    if (this.deadLetterSubject && this.connection) {
      const h = headers();
      for (const [key, values] of message.headers ?? []) {
        if (!/^Nats-/i.test(key)) for (const value of values) h.append(key, value);
      }
      h.set('Outbox-Dead-Letter-Stream', this.stream);
      h.set('Outbox-Dead-Letter-Sequence', String(message.seq));
      h.set('Outbox-Dead-Letter-Subject', message.subject);
      h.set('Outbox-Dead-Letter-Reason', reason.replace(/[\r\n]+/g, ' ').slice(0, 1_000));
      // One copy per stream sequence and consumer, whatever the retries of this republish.
      h.set('Nats-Msg-Id', `${this.stream}:${message.seq}:${this.durable}`);
      try {
        await jetstream(this.connection).publish(this.deadLetterSubject, message.data, {
          headers: h,
        });
      } catch (error) {
        this.logger.error(
          `Cannot dead-letter ${where} to ${this.deadLetterSubject} (${errorMessage(error)}); redelivering in ${this.retryDelayMs} ms`,
        );
        this.instrumentation.redelivered(pattern);
        message.nak(this.retryDelayMs);
        return;
      }
    }
    this.deadLetteredTotal++;
    this.instrumentation.deadLettered(pattern);
    const to = this.deadLetterSubject ? ` to ${this.deadLetterSubject}` : '';
    this.logger.error(`Dead-lettered ${where}${to}: ${reason}`);
    // Without a reason: nats-server before 2.10 ignores a +TERM that carries one.
    message.term();
  }

  private async followStatus(connection: NatsConnection): Promise<void> {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') {
        this._status$.next('disconnected');
        this.logger.warn('NATS connection lost; reconnecting');
      } else if (status.type === 'reconnecting') {
        this._status$.next('reconnecting');
      } else if (status.type === 'reconnect') {
        this._status$.next('connected');
        this.logger.log('NATS connection restored');
      }
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.pauses.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.pauses.add(wake);
    });
  }
}
