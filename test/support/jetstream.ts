import {
  jetstream,
  jetstreamManager,
  type JetStreamManager,
  type PubAck,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, headers as natsHeaders, type NatsConnection } from '@nats-io/transport-node';
import { TEST_NATS_URL, uniqueName } from './test-env.js';

export interface StoredMessage {
  readonly subject: string;
  readonly msgId: string | undefined;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

/** A stream and subject prefix of the test file's own, read back with a bare NATS client. */
export class TestStream {
  readonly stream = uniqueName('OUTBOX_TEST').toUpperCase();
  readonly subjectPrefix = uniqueName('test').replace(/_/g, '-') + '.events';
  private nc!: NatsConnection;
  private jsm!: JetStreamManager;

  constructor(readonly natsUrl: string = TEST_NATS_URL) {}

  async connect(): Promise<this> {
    this.nc = await connect({ servers: this.natsUrl });
    this.jsm = await jetstreamManager(this.nc);
    return this;
  }

  /** `config` adjusts the stream, e.g. `{ max_msg_size: 2_000 }` to make a real poison event. */
  async create(config: Partial<StreamConfig> = {}): Promise<this> {
    await this.jsm.streams.add({
      name: this.stream,
      subjects: [`${this.subjectPrefix}.>`],
      duplicate_window: 120_000_000_000,
      ...config,
    });
    return this;
  }

  /** The bare NATS connection, for publishing as another client would. */
  connection(): NatsConnection {
    return this.nc;
  }

  /** A fresh connection, after the server was restarted under the old one. */
  async reconnect(): Promise<this> {
    await this.nc.close().catch(() => undefined);
    return this.connect();
  }

  async exists(): Promise<boolean> {
    return this.jsm.streams.info(this.stream).then(
      () => true,
      () => false,
    );
  }

  async count(): Promise<number> {
    return (await this.jsm.streams.info(this.stream)).state.messages;
  }

  /** Every message the stream holds, in stream order. */
  async messages(): Promise<StoredMessage[]> {
    const total = await this.count();
    const out: StoredMessage[] = [];
    if (total === 0) return out;
    const consumer = await jetstream(this.nc).consumers.get(this.stream);
    const iterator = await consumer.consume({ max_messages: 1_000 });
    for await (const m of iterator) {
      const headers: Record<string, string> = {};
      for (const [key, values] of m.headers ?? []) headers[key] = values[0];
      out.push({
        subject: m.subject,
        msgId: m.headers?.get('Nats-Msg-Id'),
        headers,
        body: m.json<Record<string, unknown>>(),
      });
      if (out.length >= total) break;
    }
    await iterator.close();
    return out;
  }

  /** Publishes a stored message again, with its headers (its Nats-Msg-Id too). */
  async republish(message: StoredMessage): Promise<PubAck> {
    const h = natsHeaders();
    for (const [key, value] of Object.entries(message.headers)) h.set(key, value);
    return jetstream(this.nc).publish(message.subject, JSON.stringify(message.body), {
      headers: h,
    });
  }

  /** The last stream sequence up to which `consumer` has every message acknowledged. */
  async ackFloor(consumer: string): Promise<number> {
    return (await this.jsm.consumers.info(this.stream, consumer)).ack_floor.stream_seq;
  }

  async destroy(): Promise<void> {
    if (!this.nc) return;
    await this.jsm.streams.delete(this.stream).catch(() => undefined);
    await this.nc.close();
  }
}
