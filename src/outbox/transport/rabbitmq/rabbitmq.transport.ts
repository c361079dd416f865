import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ClientRMQ } from '@nestjs/microservices';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import type { ConfirmChannel } from 'amqplib';
import type { ResolvedOutboxOptions } from '../../config/outbox-options.interface.js';
import type { OutboxTransport } from '../outbox-transport.js';
import { RmqEnvelopeSerializer } from './rmq-envelope.serializer.js';

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
  private readonly logger = new Logger(RabbitMqTransport.name);
  private connectionStatus = 'not connected yet';
  private prepared: Promise<void> | undefined;
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
      serializer: new RmqEnvelopeSerializer(),
      socketOptions: {
        connectionOptions: { clientProperties: { connection_name: 'nestjs-outbox-relay' } },
      },
    });
    this.client.status.subscribe((status) => (this.connectionStatus = status));
  }

  patternFor(eventType: string): string {
    return eventType;
  }

  prepare(): Promise<void> {
    this.prepared ??= this.declareUnroutable().catch((error: unknown) => {
      this.prepared = undefined;
      throw error;
    });
    return this.prepared;
  }

  invalidate(): void {
    this.prepared = undefined;
  }

  acknowledgement(): { duplicate: boolean } {
    // emit() resolved inside the publisher-confirm callback: that is the acknowledgement.
    // AMQP has no broker-side de-duplication to report.
    return { duplicate: false };
  }

  isPermanentFailure(): boolean {
    return false;
  }

  isConnectionFailure(error: unknown): boolean {
    // ClientRMQ rejects with a bare string while the connection is down.
    return typeof error === 'string' || this.connectionStatus !== 'connected';
  }

  async checkHealth(): Promise<Record<string, unknown>> {
    await this.client.connect();
    if (this.connectionStatus !== 'connected') {
      throw new Error(`RabbitMQ connection is ${this.connectionStatus}`);
    }
    await this.prepare();
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

  private async declareUnroutable(): Promise<void> {
    await this.client.connect();
    if (!this.admin) {
      const unroutable = this.unroutable;
      this.admin = this.client.unwrap<AmqpConnectionManager>().createChannel({
        // Runs again after every reconnect.
        setup: async (channel: ConfirmChannel) => {
          await channel.assertExchange(unroutable, 'fanout', { durable: true });
          await channel.assertQueue(unroutable, { durable: true });
          await channel.bindQueue(unroutable, unroutable, '');
        },
      });
      this.admin.on('error', (error: Error) => this.logger.error(error.message));
    }
    await this.admin.waitForConnect();
  }
}
