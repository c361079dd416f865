import { connect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { uniqueName } from './test-env.js';

export const TEST_RABBITMQ_URL =
  process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';

export interface ReceivedMessage {
  readonly routingKey: string;
  readonly messageId: string | undefined;
  readonly headers: Record<string, unknown>;
  readonly deliveryMode: number | undefined;
  readonly contentType: string | undefined;
  readonly body: Record<string, unknown>;
}

/** An exchange name of the test's own, queues bound to it, and their clean-up. */
export class TestExchange {
  readonly exchange = uniqueName('outbox.test').replace(/_/g, '-');
  private readonly queues: string[] = [];
  private connection!: ChannelModel;
  private channel!: Channel;

  async connect(): Promise<this> {
    this.connection = await connect(TEST_RABBITMQ_URL);
    // The broker may close it on purpose in a fault test; the test reconnects.
    this.connection.on('error', () => undefined);
    this.channel = await this.connection.createChannel();
    this.channel.on('error', () => undefined);
    return this;
  }

  /** After the broker closed every connection. */
  async reconnect(): Promise<this> {
    await this.connection.close().catch(() => undefined);
    return this.connect();
  }

  /** The exchange as an older service might have declared it: without the alternate exchange. */
  async declarePlain(): Promise<void> {
    await this.channel.assertExchange(this.exchange, 'topic', { durable: true });
  }

  /** A durable queue bound with `pattern`; declares the exchange as the relay will. */
  async bindQueue(pattern: string, args: Record<string, unknown> = {}): Promise<string> {
    await this.channel.assertExchange(this.exchange, 'topic', {
      durable: true,
      arguments: { 'alternate-exchange': `${this.exchange}.unroutable` },
    });
    const queue = uniqueName('q');
    await this.channel.assertQueue(queue, { durable: true, arguments: args });
    await this.channel.bindQueue(queue, this.exchange, pattern);
    this.queues.push(queue);
    return queue;
  }

  /** `<exchange>.unroutable` declared before the relay, as an operator may on a cluster. */
  async declareUnroutableQueue(args: Record<string, unknown>): Promise<void> {
    await this.channel.assertQueue(`${this.exchange}.unroutable`, {
      durable: true,
      arguments: args,
    });
  }

  /** Deletes `queue` with the rest, for queues a consumer under test declared itself. */
  track(queue: string): string {
    this.queues.push(queue);
    return queue;
  }

  /** Messages ready in `queue` (not counting those delivered and unacknowledged). */
  async ready(queue: string): Promise<number> {
    return (await this.channel.checkQueue(queue)).messageCount;
  }

  /** Takes every message now in `queue`, acknowledging each. */
  async take(queue: string, max = Infinity): Promise<ReceivedMessage[]> {
    const out: ReceivedMessage[] = [];
    // A channel per call: asking for a queue that does not exist yet closes the channel.
    const channel = await this.connection.createChannel();
    channel.on('error', () => undefined);
    try {
      await this.getInto(channel, queue, max, out);
    } finally {
      await channel.close().catch(() => undefined);
    }
    return out;
  }

  private async getInto(channel: Channel, queue: string, max: number, out: ReceivedMessage[]) {
    while (out.length < max) {
      const m: GetMessage | false = await channel.get(queue, { noAck: true });
      if (!m) break;
      out.push({
        routingKey: m.fields.routingKey,
        messageId: m.properties.messageId as string | undefined,
        headers: m.properties.headers ?? {},
        deliveryMode: m.properties.deliveryMode as number | undefined,
        contentType: m.properties.contentType as string | undefined,
        body: JSON.parse(m.content.toString()) as Record<string, unknown>,
      });
    }
  }

  async destroy(): Promise<void> {
    for (const q of [...this.queues, `${this.exchange}.unroutable`]) {
      await this.channel.deleteQueue(q).catch(() => undefined);
    }
    await this.channel.deleteExchange(this.exchange).catch(() => undefined);
    await this.channel.deleteExchange(`${this.exchange}.unroutable`).catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }
}
