import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { ClientRMQ } from '@nestjs/microservices';
import { lastValueFrom, timeout } from 'rxjs';
import type { AmqpConnectionManager, ChannelWrapper } from 'amqp-connection-manager';
import * as amqp from 'amqplib';
import { errorMessage } from '../errors/error-text.js';
import { withTimeout } from '../utils/with-timeout.js';
import type { OutboxMessage } from '../message/outbox-message.js';
import type {
  MessagingDestination,
  OutboxTransport,
  PublishFailure,
  PublishResult,
} from '../transport/outbox-transport.js';
import type { OutboxTransportContext } from '../transport/outbox-transport-context.js';
import { publishEach } from '../transport/publish-each.js';
import type { ResolvedRabbitMqTransportOptions } from './rabbitmq-transport.options.js';
import { RmqEnvelopeSerializer } from './rmq-envelope.serializer.js';
import { OnceUntilFailure } from '../utils/once-until-failure.js';

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
  /** Connections lost so far: a publish that saw this change was in flight at the loss. */
  private losses = 0;
  // A failed preparation is forgotten, so the next batch tries again.
  private readonly preparation = new OnceUntilFailure(() => this.declareUnroutable());
  private admin: ChannelWrapper | undefined;
  private readonly logger = new Logger(RabbitMqTransport.name);
  /** Why the unroutable queue could not be declared last time, to warn once per reason. */
  private unroutableTrouble: string | undefined;

  constructor(
    private readonly options: ResolvedRabbitMqTransportOptions,
    private readonly context: OutboxTransportContext,
  ) {
    this.unroutable = `${options.exchange}.unroutable`;
    this.client = new ClientRMQ({
      // amqp-connection-manager fails over across them, in turn.
      urls: [...options.urls],
      exchange: options.exchange,
      exchangeType: 'topic',
      // With wildcards ClientRMQ publishes to the exchange with the pattern as routing key.
      wildcards: true,
      persistent: true,
      exchangeArguments: { 'alternate-exchange': this.unroutable },
      serializer: new RmqEnvelopeSerializer(context.messageFormat),
      socketOptions: {
        connectionOptions: { clientProperties: { connection_name: 'nestjs-outbox-relay' } },
        // amqp-connection-manager waits a heartbeat interval (5 s) before it tries the next
        // node; a relay is stalled for all of it.
        reconnectTimeInSeconds: 0.5,
      },
    });
    // ClientRMQ reports 'unblocked' after a resource alarm clears, not 'connected' again.
    this.client.status.subscribe((status) => {
      const next = String(status) === 'unblocked' ? 'connected' : String(status);
      if (next === 'disconnected' && this.connectionStatus !== next) this.losses++;
      this.connectionStatus = next;
    });
  }

  publish(messages: readonly OutboxMessage[], signal: AbortSignal): Promise<PublishResult[]> {
    return publishEach(messages, signal, this.preparation, (message) => this.publishOne(message));
  }

  private async publishOne(message: OutboxMessage): Promise<PublishResult> {
    const lossesAtSend = this.losses;
    try {
      // emit() completes inside the publisher-confirm callback: that is the acknowledgement.
      // AMQP has no broker-side de-duplication to report.
      await lastValueFrom(
        this.client
          .emit(message.envelope.event_type, message)
          // ClientRMQ has no confirm timeout of its own.
          .pipe(timeout(this.context.publishTimeoutMs)),
        { defaultValue: undefined },
      );
      return { status: 'acknowledged', duplicate: false };
    } catch (error) {
      return { status: 'failed', failure: this.failureOf(error, lossesAtSend), error };
    }
  }

  private failureOf(error: unknown, lossesAtSend: number): PublishFailure {
    if (this.losses !== lossesAtSend) return 'connection-lost';
    // amqplib refuses to encode a field (a routing key over 255 characters) before sending;
    // the channel re-emits that as an 'error' event, which Node wraps with the TypeError as
    // its context.
    const cause = (error as { context?: unknown } | undefined)?.context ?? error;
    if (cause instanceof TypeError && /^Field '\w+' is the wrong type/.test(cause.message)) {
      return 'never';
    }
    // ClientRMQ rejects with a bare string while the connection is down; no confirm in time.
    if (
      typeof error === 'string' ||
      (error instanceof Error && error.name === 'TimeoutError') ||
      this.connectionStatus !== 'connected'
    ) {
      return 'unavailable';
    }
    return 'retry';
  }

  async checkHealth(): Promise<Record<string, unknown>> {
    await this.preparation.run();
    if (this.connectionStatus !== 'connected') {
      throw new Error(`RabbitMQ connection is ${this.connectionStatus}`);
    }
    return {
      transport: this.name,
      exchange: this.options.exchange,
      unroutableMessages: await this.unroutableMessages(),
    };
  }

  /**
   * How many messages the unroutable queue holds, or why that is unknown: on a short-lived
   * channel, since a failed check closes the channel it ran on, and a ChannelWrapper's stays
   * closed until the next reconnection.
   */
  private async unroutableMessages(): Promise<number | string> {
    const connection = this.client.unwrap<AmqpConnectionManager>().connection;
    if (!connection) throw new Error('RabbitMQ connection is not open');
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.checkQueue(this.unroutable)).messageCount;
    } catch (error) {
      return `unknown: ${errorMessage(error)}`;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  describeDestination(eventType: string | undefined): MessagingDestination {
    // Every event goes to the one exchange; the event type is the routing key.
    return {
      system: 'rabbitmq',
      destination: this.options.exchange,
      attributes: eventType ? { 'messaging.rabbitmq.destination.routing_key': eventType } : {},
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
    const { exchange, urls } = this.options;
    const unroutable = this.unroutable;
    const connection = await this.connectToAny(urls);
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createChannel();
      channel.on('error', () => undefined);
      try {
        await channel.assertExchange(unroutable, 'fanout', { durable: true });
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
      }
      await this.declareUnroutableQueue(connection);
    } finally {
      await connection.close().catch(() => undefined);
    }
  }

  /**
   * The queue behind the alternate exchange. One that exists is taken as it is, of any type:
   * on a cluster, declare it as a quorum queue beforehand. The relay never waits for it: while
   * the node of a classic one is down, publishing goes on (what nobody is bound for is then
   * dropped, as AMQP does without an alternate exchange), with a warning.
   */
  private async declareUnroutableQueue(connection: amqp.ChannelModel): Promise<void> {
    const unroutable = this.unroutable;
    // A failed declaration closes its channel: each step that may fail has its own.
    const channel = async () => {
      const created = await connection.createChannel();
      created.on('error', () => undefined);
      return created;
    };
    try {
      try {
        await (await channel()).checkQueue(unroutable);
      } catch (error) {
        if (!/NOT_FOUND/.test(errorMessage(error)) || /home node/.test(errorMessage(error))) {
          throw error;
        }
        await (await channel()).assertQueue(unroutable, { durable: true });
      }
      await (await channel()).bindQueue(unroutable, unroutable, '');
      this.unroutableTrouble = undefined;
    } catch (error) {
      const reason = errorMessage(error);
      if (this.unroutableTrouble !== reason) {
        this.logger.warn(
          `Cannot declare the unroutable queue ${unroutable}; publishing goes on without it, and messages no queue is bound for are dropped meanwhile: ${reason}`,
        );
      }
      this.unroutableTrouble = reason;
    }
  }

  private async declareUnroutable(): Promise<void> {
    await this.declareTopology();
    await this.client.connect();
    this.admin ??= this.client.unwrap<AmqpConnectionManager>().createChannel({ json: false });
    await withTimeout(this.admin.waitForConnect(), this.context.publishTimeoutMs);
  }

  /** The first of the cluster's URLs that answers. */
  private async connectToAny(urls: readonly string[]): Promise<amqp.ChannelModel> {
    let failure: unknown;
    for (const url of urls) {
      try {
        return await withTimeout(amqp.connect(url), this.context.publishTimeoutMs);
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  }
}
