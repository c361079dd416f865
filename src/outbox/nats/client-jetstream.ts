import { jetstream, type JetStreamClient, type PubAck } from '@nats-io/jetstream';
import type { MsgHdrs, NatsConnection } from '@nats-io/transport-node';
import { ClientNats, type NatsOptions, type ReadPacket } from '@nestjs/microservices';

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
