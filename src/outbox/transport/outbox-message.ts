import type { EventEnvelope } from '../events/event-envelope.js';

/**
 * What the relay hands to `ClientProxy.emit()`. The transport's serializer turns it into the
 * broker's message: the envelope as the body, the headers as message headers.
 * @publicApi
 */
export interface OutboxMessage {
  readonly envelope: EventEnvelope;
  readonly headers: Readonly<Record<string, string>>;
}
