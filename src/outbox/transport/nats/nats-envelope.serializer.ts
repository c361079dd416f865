import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { ReadPacket, Serializer } from '@nestjs/microservices';
import type { OutboxMessage } from '../outbox-message.js';

const encoder = new TextEncoder();

/**
 * Writes the envelope itself as the message body (Nest's default would wrap it in
 * `{pattern, data}`), and the event id as `Nats-Msg-Id`, JetStream's de-duplication key.
 */
export class NatsEnvelopeSerializer implements Serializer<
  ReadPacket<OutboxMessage>,
  { data: Uint8Array; headers: MsgHdrs }
> {
  serialize(packet: ReadPacket<OutboxMessage>): { data: Uint8Array; headers: MsgHdrs } {
    const { envelope, headers } = packet.data;
    const h = natsHeaders();
    for (const [key, value] of Object.entries(headers)) h.set(key, value);
    h.set('Nats-Msg-Id', envelope.event_id);
    h.set('Event-Type', envelope.event_type);
    h.set('Event-Version', envelope.event_version);
    h.set('Content-Type', 'application/json');
    return { data: encoder.encode(JSON.stringify(envelope)), headers: h };
  }
}
