import type { OnApplicationShutdown } from '@nestjs/common';
import { ClientRMQ } from '@nestjs/microservices';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import * as amqp from 'amqplib';
import { errorMessage } from '../../errors/error-text.js';
import { withTimeout } from '../../utils/with-timeout.js';
import type { ResolvedOutboxOptions } from '../../config/outbox-options.interface.js';
import type { OutboxTransport } from '../outbox-transport.js';
import { RmqEnvelopeSerializer } from './rmq-envelope.serializer.js';
import { OnceUntilFailure } from '../../utils/once-until-failure.js';

/**
 * RabbitMQ: events go to a durable topic exchange with the event type as routing key, and
 * `ClientRMQ.emit()` completes on the broker's publisher confirm.
 *
 * AMQP drops a message that no queue is bound for, and still confirms it; `ClientRMQ` ignores
 * `basic.return`. So the exchange is declared with an alternate exchange,
 * `<exchange>.unroutable` (fanout), bound to a durable queue of the same name: a message
 * nobody subscribed to is kept there, counted in broker health, instead of vanishing.
 */
export class RabbitMqTransport implements OutboxTransport, OnApplicationShutdown {
  readonly name = 'rabbitmq';
  readonly client: ClientRMQ;
  readonly unroutable: string;
  private connectionStatus = 'not connected yet';
  // A failed preparation is forgotten, so the next tick tries again.
  private readonly preparation = new OnceUntilFailure(() => this.declareUnroutable());
  private admin: ChannelWrapper | undefined;

  constructor(private readonly options: ResolvedOutboxOptions) {
    this.unroutable = `${options.exchange}.unroutable`;
    this.client = new ClientRMQ({
      urls: [options.rabbitmqUrl],
      exchange: options.exchange,
      exchangeType: 'topic',
      // With wildcards ClientRMQ publishes to the exchange with the pattern as routing key.
      wildcards: true,
      persistent: true,
      exchangeArguments: { 'alternate-exchange': this.unroutable },
      serializer: new RmqEnvelopeSerializer(options),
      socketOptions: {
        connectionOptions: { clientProperties: { connection_name: 'nestjs-outbox-relay' } },
      },
    });
    // ClientRMQ reports 'unblocked' after a resource alarm clears, not 'connected' again.
    this.client.status.subscribe(
      (status) => (this.connectionStatus = String(status) === 'unblocked' ? 'connected' : status),
    );
  }

  patternFor(eventType: string): string {
    return eventType;
  }

  prepare(): Promise<void> {
    return this.preparation.run();
  }

  invalidate(): void {
    this.preparation.reset();
  }

  acknowledgement(): { duplicate: boolean } {
    // emit() resolved inside the publisher-confirm callback: that is the acknowledgement.
    // AMQP has no broker-side de-duplication to report.
    return { duplicate: false };
  }

  isPermanentFailure(error: unknown): boolean {
    // amqplib refuses to encode a field (a routing key over 255 characters) before sending;
    // the channel re-emits that as an 'error' event, which Node wraps with the TypeError as
    // its context.
    const cause = (error as { context?: unknown } | undefined)?.context ?? error;
    return cause instanceof TypeError && /^Field '\w+' is the wrong type/.test(cause.message);
  }

  isConnectionFailure(error: unknown): boolean {
    // ClientRMQ rejects with a bare string while the connection is down.
    return typeof error === 'string' || this.connectionStatus !== 'connected';
  }

  async checkHealth(): Promise<Record<string, unknown>> {
    await this.prepare();
    if (this.connectionStatus !== 'connected') {
      throw new Error(`RabbitMQ connection is ${this.connectionStatus}`);
    }
    const unroutable = await this.admin!.checkQueue(this.unroutable);
    return {
      transport: this.name,
      exchange: this.options.exchange,
      unroutableMessages: unroutable.messageCount,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.admin?.close();
    await this.client.close();
  }

  /**
   * Declares the exchanges and the unroutable queue on a short-lived connection of its own,
   * before ClientRMQ connects: ClientRMQ's own declaration has no error listener, so an
   * exchange that exists with other arguments would end the process. Here it becomes an
   * error the relay reports on every tick, with the fix in its message.
   */
  private async declareTopology(): Promise<void> {
    const { exchange, rabbitmqUrl, publishTimeoutMs } = this.options;
    const unroutable = this.unroutable;
    const connection = await withTimeout(amqp.connect(rabbitmqUrl), publishTimeoutMs);
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      await channel.assertExchange(unroutable, 'fanout', { durable: true });
      await channel.assertQueue(unroutable, { durable: true });
      await channel.bindQueue(unroutable, unroutable, '');
      await channel.assertExchange(exchange, 'topic', {
        durable: true,
        arguments: { 'alternate-exchange': unroutable },
      });
    } catch (error) {
      const reason = errorMessage(error);
      throw new Error(
        /PRECONDITION_FAILED/.test(reason)
          ? `exchange ${exchange} exists with other arguments (it needs alternate-exchange=${unroutable}); delete it or set another OUTBOX_EXCHANGE: ${reason}`
          : reason,
        { cause: error },
      );
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  private async declareUnroutable(): Promise<void> {
    await this.declareTopology();
    await this.client.connect();
    this.admin ??= this.client.unwrap<AmqpConnectionManager>().createChannel({ json: false });
    await withTimeout(this.admin.waitForConnect(), this.options.publishTimeoutMs);
  }
}
