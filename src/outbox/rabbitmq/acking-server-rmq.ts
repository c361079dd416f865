import { Logger } from '@nestjs/common';
import {
  ServerRMQ,
  type ReadPacket,
  type RmqContext,
  type RmqOptions,
} from '@nestjs/microservices';
import type { Channel, Message } from 'amqplib';
import { handlerFailure, handleToCompletion } from '../inbox/handle-to-completion.js';
import { RmqEnvelopeDeserializer } from './rmq-envelope.deserializer.js';

/** @publicApi */
export type AckingServerRmqOptions = Omit<Required<RmqOptions>['options'], 'noAck'> & {
  /** The relay's topic exchange (`OUTBOX_EXCHANGE`). */
  exchange: string;
  /** This consumer's durable queue; bound to the exchange once per `@EventPattern`. */
  queue: string;
  /** Delay before a message whose handler failed is requeued. @default 1000 */
  retryDelayMs?: number;
};

/**
 * Nest's `ServerRMQ`, set up to consume the outbox's events at least once:
 *
 * - manual acknowledgement (`noAck: false`): a message is acked after its handler's work
 *   completed, and requeued (after `retryDelayMs`) when the handler threw. Plain `ServerRMQ`
 *   cannot tell an event handler's failure from its success;
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
  private readonly retries = new Set<NodeJS.Timeout>();

  constructor({ retryDelayMs = 1_000, ...options }: AckingServerRmqOptions) {
    super({
      exchangeType: 'topic',
      wildcards: true,
      queueOptions: { durable: true },
      exchangeArguments: { 'alternate-exchange': `${options.exchange}.unroutable` },
      deserializer: new RmqEnvelopeDeserializer(),
      ...options,
      noAck: false,
    });
    this.retryDelayMs = retryDelayMs;
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
      settle(() => channel.ack(message));
    } catch (error) {
      this.logger.warn(
        `Handler of "${pattern}" failed on message ${String(message.properties.messageId)}; requeueing in ${this.retryDelayMs} ms: ${handlerFailure(error)}`,
      );
      const timer = setTimeout(() => {
        this.retries.delete(timer);
        settle(() => channel.nack(message, false, true));
      }, this.retryDelayMs);
      this.retries.add(timer);
    }
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
