import { NatsContext, RmqContext, type BaseRpcContext } from '@nestjs/microservices';
import { InvalidInboxKeyError } from '../errors/invalid-inbox-key.error.js';

/**
 * The id to de-duplicate a received event by:
 *
 * 1. the envelope's `event_id`, when the body is an outbox envelope. It is the event's own
 *    identity, so it holds however the message was re-published;
 * 2. else the transport's message id: the `Nats-Msg-Id` header of a `NatsContext` (also
 *    `JetStreamContext`), or the AMQP `messageId` property of an `RmqContext`. The relay sets
 *    both to the event id.
 *
 * Throws `InvalidInboxKeyError` when the message carries neither.
 * @publicApi
 */
export function eventIdOf(payload: unknown, context?: BaseRpcContext): string {
  const id = envelopeEventId(payload) ?? (context && transportMessageId(context));
  if (!id) {
    throw new InvalidInboxKeyError(
      'the message has no event id: no envelope event_id, no Nats-Msg-Id header, no AMQP messageId',
    );
  }
  return id;
}

function envelopeEventId(payload: unknown): string | undefined {
  const id = (payload as { event_id?: unknown } | null | undefined)?.event_id;
  return typeof id === 'string' && id !== '' ? id : undefined;
}

function transportMessageId(context: BaseRpcContext): string | undefined {
  let id: unknown;
  if (context instanceof NatsContext) {
    // The headers' own get(): typed structurally, so /inbox loads no NATS client.
    id = (context.getHeaders() as { get(name: string): string } | undefined)?.get('Nats-Msg-Id');
  } else if (context instanceof RmqContext) {
    id = (context.getMessage() as { properties?: { messageId?: unknown } }).properties?.messageId;
  }
  return typeof id === 'string' && id !== '' ? id : undefined;
}
