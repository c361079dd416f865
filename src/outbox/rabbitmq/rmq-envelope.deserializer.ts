import type { ConsumerDeserializer, IncomingEvent } from '@nestjs/microservices';

/**
 * Reads the outbox envelope as an event for `ServerRMQ`. Nest's default deserializer expects
 * its own `{pattern, data}` body and turns any other JSON into an event without a pattern,
 * which no handler matches. Here the pattern is the AMQP `type` property the relay sets (the
 * event type, which is also the routing key), or else the envelope's `event_type`; the data
 * is the whole envelope. Nest's own packets pass through unchanged.
 * @publicApi
 */
export class RmqEnvelopeDeserializer implements ConsumerDeserializer {
  /** `properties` is what `ServerRMQ` passes: the message's AMQP properties. */
  deserialize(body: unknown, properties?: Record<string, unknown>): IncomingEvent {
    const value = body as { pattern?: unknown; data?: unknown; event_type?: unknown } | null;
    if (value && (value.pattern !== undefined || value.data !== undefined)) {
      return value as IncomingEvent;
    }
    const type = properties?.type;
    return { pattern: typeof type === 'string' && type ? type : value?.event_type, data: body };
  }
}
