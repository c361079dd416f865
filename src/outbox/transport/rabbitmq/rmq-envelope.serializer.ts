import type { ReadPacket, Serializer } from '@nestjs/microservices';
import type { EventEnvelope } from '../../events/event-envelope.js';
import type { OutboxMessage } from '../outbox-message.js';

/** What `ClientRMQ` expects back: the body to JSON-encode, plus its publish options. */
type RmqPacket = EventEnvelope & { options: Record<string, unknown> };

/**
 * The envelope itself as the body (ClientRMQ JSON-encodes what is returned, minus `options`),
 * and the AMQP properties consumers rely on: `messageId` = event id for de-duplication,
 * persistent delivery, JSON content type, the event type as `type` and header.
 */
export class RmqEnvelopeSerializer implements Serializer<ReadPacket<OutboxMessage>, RmqPacket> {
  serialize(packet: ReadPacket<OutboxMessage>): RmqPacket {
    const { envelope, headers } = packet.data;
    return {
      ...envelope,
      options: {
        messageId: envelope.event_id,
        type: envelope.event_type,
        contentType: 'application/json',
        persistent: true,
        timestamp: Math.floor(Date.parse(envelope.occurred_at) / 1000),
        headers: {
          ...headers,
          'Event-Type': envelope.event_type,
          'Event-Version': envelope.event_version,
        },
      },
    };
  }
}
