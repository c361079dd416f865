import { jetstream, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { ClientNats, type NatsOptions, type ReadPacket } from '@nestjs/microservices';
import { PubAckInbox } from './pub-ack-inbox.js';
import type { PubAckOutcome } from './pub-ack-reader.js';

/** `NatsOptions['options']` plus how long to wait for a PubAck. @publicApi */
export type ClientJetStreamOptions = NonNullable<NatsOptions['options']> & {
  /** @default 5000 */
  publishTimeout?: number;
};

/**
 * A `ClientNats` whose `emit()` is a JetStream publish: it resolves with the stream's `PubAck`
 * and rejects when no stream stored the message. Nest's own `emit()` is a core-NATS publish
 * that "succeeds" even when nothing captured the subject, which an outbox cannot accept.
 * Connection handling, status events and `unwrap()` are inherited unchanged.
 * @publicApi
 */
export class ClientJetStream extends ClientNats {
  private js: { connection: unknown; client: JetStreamClient } | undefined;
  private inbox: { connection: unknown; stream: string; inbox: PubAckInbox } | undefined;

  constructor(protected override readonly options: ClientJetStreamOptions) {
    super(options);
  }

  /**
   * `emit()` as a promise: the same connection, dispatch hook, serializer and PubAck, without
   * the Observables Nest builds around each event.
   */
  async publishEvent(pattern: string, data: unknown): Promise<PubAck> {
    await this.connect();
    return this.dispatchEvent(this.createPacket(pattern, data));
  }

  /**
   * Publishes many events at once, pipelined, and resolves with JetStream's answer to each, in
   * order: `stored` or `duplicate` when `stream` acknowledged it, otherwise the error (a
   * `TimeoutError` when no answer came within `publishTimeout` of the call, an `AbortError`
   * when `signal` aborted first). Rejects only when there is no connection to publish on.
   * The relay's fast path: no promise, timer or `Error` per event.
   */
  async publishEvents(
    packets: readonly ReadPacket[],
    stream: string,
    signal: AbortSignal,
  ): Promise<PubAckOutcome[]> {
    const connection = (await this.connect()) as unknown as NatsConnection;
    if (this.inbox?.connection !== connection || this.inbox.stream !== stream) {
      this.inbox = {
        connection,
        stream,
        inbox: new PubAckInbox(connection, stream, this.options.inboxPrefix),
      };
    }
    return this.inbox.inbox.publish(
      packets.length,
      (index, reply) => {
        const packet = packets[index];
        const serialized = this.serializer.serialize(packet) as
          { data: Uint8Array; headers?: MsgHdrs } | Promise<unknown>;
        if (serialized instanceof Promise) {
          throw new TypeError('publishEvents() needs a serializer that answers synchronously');
        }
        const { data, headers } = serialized;
        connection.publish(this.normalizePattern(packet.pattern as string), data, {
          reply,
          headers: this.mergeHeaders<MsgHdrs>(headers) as MsgHdrs | undefined,
        });
      },
      this.options.publishTimeout ?? 5_000,
      signal,
    );
  }

  protected override async dispatchEvent(packet: ReadPacket): Promise<PubAck> {
    const subject = this.normalizePattern(packet.pattern as string);
    const { data, headers } = (await this.serializer.serialize(packet)) as {
      data: Uint8Array;
      headers?: MsgHdrs;
    };
    return this.jetStream().publish(subject, data, {
      headers: this.mergeHeaders<MsgHdrs>(headers) as MsgHdrs | undefined,
      timeout: this.options.publishTimeout ?? 5_000,
    });
  }

  // The connection is replaced when the client reconnects from scratch; the JetStream
  // context must follow it.
  private jetStream(): JetStreamClient {
    const connection = this.natsClient;
    if (this.js?.connection !== connection) {
      this.js = { connection, client: jetstream(connection as unknown as NatsConnection) };
    }
    return this.js.client;
  }
}
