import { Logger } from '@nestjs/common';
import {
  ServerRMQ,
  type MessageHandler,
  type ReadPacket,
  type RmqContext,
  type RmqOptions,
} from '@nestjs/microservices';
import type { Channel, Message } from 'amqplib';
import { afterFailure, checkedMaxDeliveries } from '../inbox/delivery-limit.js';
import { handlerFailure, handleToCompletion } from '../inbox/handle-to-completion.js';
import type { ConsumerInstrument } from '../instrumentation/consumer-instrument.js';
import { ConsumerInstrumentation } from '../instrumentation/consumer-instrumentation.js';
import { RmqEnvelopeDeserializer } from './rmq-envelope.deserializer.js';

/** @publicApi */
export type AckingServerRmqOptions = Omit<Required<RmqOptions>['options'], 'noAck'> & {
  /** The relay's topic exchange (`OUTBOX_EXCHANGE`). */
  exchange: string;
  /** This consumer's durable queue; bound to the exchange once per `@EventPattern`. */
  queue: string;
  /** Delay before a message whose handler failed is requeued. @default 1000 */
  retryDelayMs?: number;
  /**
   * Deliveries a message gets, the first included, before it is dead-lettered: rejected
   * without requeue, so the queue's dead-letter exchange takes it (declare one with
   * `deadLetterExchange`, or RabbitMQ drops it). A message that can never succeed (no event id
   * for the inbox) is dead-lettered at once. Deliveries are counted by the broker on quorum
   * queues (`x-delivery-count`), and by this process otherwise.
   * @default 5
   */
  maxDeliveries?: number;
  /**
   * The exchange the queue dead-letters to (its `x-dead-letter-exchange`), declared here as a
   * fanout exchange with a durable queue of the same name, `<deadLetterExchange>`, bound to it.
   * A queue that exists already keeps its own arguments: RabbitMQ refuses to change them.
   */
  deadLetterExchange?: string;
  /**
   * Told of each requeue and dead letter, per `@EventPattern`: `new ConsumerMetrics({ registry })`
   * from `nestjs-pg-outbox/metrics` counts them in Prometheus.
   */
  instrument?: ConsumerInstrument;
};

/** Failed deliveries remembered per message id, for queues whose broker does not count them. */
const MAX_TRACKED_FAILURES = 10_000;

/**
 * Nest's `ServerRMQ`, set up to consume the outbox's events at least once:
 *
 * - manual acknowledgement (`noAck: false`): a message is acked after its handler's work
 *   completed, and requeued (after `retryDelayMs`) when the handler threw, at most
 *   `maxDeliveries` times in all; then it goes to the queue's dead-letter exchange. Plain
 *   `ServerRMQ` cannot tell an event handler's failure from its success;
 * - the queue is durable and bound to the topic exchange with each `@EventPattern` as
 *   binding key (`wildcards: true`), so `submission.received` or `submission.*` work;
 * - the exchange is declared as the relay declares it (with its alternate exchange
 *   `<exchange>.unroutable`), so either side may start first;
 * - the body is read as the outbox envelope (`RmqEnvelopeDeserializer`).
 *
 * Every option of `ServerRMQ` except `noAck` can still be given. Set `prefetchCount` to
 * bound the messages handled at once (Nest's default, 0, is unlimited).
 * @publicApi
 */
export class AckingServerRMQ extends ServerRMQ {
  // Handler failures reach this class (which requeues), not Nest's "unhandled" logging.
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(AckingServerRMQ.name);
  private readonly retryDelayMs: number;
  private readonly maxDeliveries: number;
  private readonly deadLetterExchange: string | undefined;
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly failures = new Map<string, number>();
  private readonly instrumentation: ConsumerInstrumentation;
  /** Messages dead-lettered by this server, for metrics and tests. */
  deadLetteredTotal = 0;

  constructor({
    retryDelayMs = 1_000,
    maxDeliveries,
    deadLetterExchange,
    instrument,
    queueOptions,
    ...options
  }: AckingServerRmqOptions) {
    super({
      exchangeType: 'topic',
      wildcards: true,
      queueOptions: {
        durable: true,
        ...(deadLetterExchange && { deadLetterExchange }),
        ...queueOptions,
      },
      exchangeArguments: { 'alternate-exchange': `${options.exchange}.unroutable` },
      deserializer: new RmqEnvelopeDeserializer(),
      ...options,
      noAck: false,
    });
    this.retryDelayMs = retryDelayMs;
    this.maxDeliveries = checkedMaxDeliveries(maxDeliveries, 'AckingServerRMQ');
    this.deadLetterExchange = deadLetterExchange;
    this.instrumentation = new ConsumerInstrumentation('rabbitmq', instrument);
  }

  override async listen(callback: (error?: unknown) => void): Promise<void> {
    for (const [pattern, handler] of this.getHandlers()) {
      if (handler.isEventHandler) this.instrumentation.consuming(pattern);
    }
    return super.listen(callback);
  }

  override async setupChannel(channel: Channel, callback: () => void): Promise<void> {
    if (this.deadLetterExchange) {
      await channel.assertExchange(this.deadLetterExchange, 'fanout', { durable: true });
      await channel.assertQueue(this.deadLetterExchange, { durable: true });
      await channel.bindQueue(this.deadLetterExchange, this.deadLetterExchange, '');
    }
    return super.setupChannel(channel, callback);
  }

  override async handleEvent(
    pattern: string,
    packet: ReadPacket,
    context: RmqContext,
  ): Promise<void> {
    const channel = context.getChannelRef() as Channel;
    const message = context.getMessage() as Message;
    const handler = this.getHandlerByPattern(pattern);
    if (!handler) {
      // Only bound patterns arrive; anything else is dropped (or dead-lettered by the queue).
      this.logger.warn(`No @EventPattern for "${pattern}"; dropping the message`);
      return settle(() => channel.nack(message, false, false));
    }
    try {
      await handleToCompletion(
        (fn) => this.runWithProcessingHooks(context, fn),
        () => handler(packet.data, context),
      );
      this.failures.delete(String(message.properties.messageId));
      settle(() => channel.ack(message));
    } catch (error) {
      const id = String(message.properties.messageId);
      const failure = handlerFailure(error);
      const registeredPattern = this.patternOf(handler) ?? pattern;
      if (afterFailure(error, this.deliveryOf(message), this.maxDeliveries) === 'dead-letter') {
        this.failures.delete(id);
        this.deadLetteredTotal++;
        this.instrumentation.deadLettered(registeredPattern);
        const to = this.deadLetterExchange ? ` to ${this.deadLetterExchange}` : '';
        this.logger.error(
          `Dead-lettered message ${id}${to}: handler of "${pattern}" failed: ${failure}`,
        );
        return settle(() => channel.nack(message, false, false));
      }
      this.instrumentation.redelivered(registeredPattern);
      this.logger.warn(
        `Handler of "${pattern}" failed on message ${id}; requeueing in ${this.retryDelayMs} ms: ${failure}`,
      );
      const timer = setTimeout(() => {
        this.retries.delete(timer);
        settle(() => channel.nack(message, false, true));
      }, this.retryDelayMs);
      this.retries.add(timer);
    }
  }

  /** The `@EventPattern` a handler was registered with: a wildcard one matches many types. */
  private patternOf(handler: MessageHandler): string | undefined {
    for (const [pattern, registered] of this.getHandlers()) {
      if (registered === handler) return pattern;
    }
    return undefined;
  }

  /**
   * This delivery's number: the broker's count on a quorum queue, else this process's count
   * of failures of the message id, bounded in memory (a restart starts it again).
   */
  private deliveryOf(message: Message): number {
    const counted = Number(message.properties.headers?.['x-delivery-count']);
    if (Number.isInteger(counted) && counted >= 0) return counted + 1;
    const id = String(message.properties.messageId);
    const delivery = (this.failures.get(id) ?? 0) + 1;
    this.failures.delete(id);
    if (this.failures.size >= MAX_TRACKED_FAILURES) {
      this.failures.delete(this.failures.keys().next().value!);
    }
    this.failures.set(id, delivery);
    return delivery;
  }

  override async close(): Promise<void> {
    // Messages waiting for their requeue go back to the queue when the channel closes.
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    await super.close();
  }
}

function settle(operation: () => void): void {
  try {
    operation();
  } catch {
    // The channel closed meanwhile: the broker redelivers the message anyway.
  }
}
