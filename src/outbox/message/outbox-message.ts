import type { EventEnvelope } from './event-envelope.js';

/**
 * What the relay hands to the transport. The adapter's serializer turns it into the
 * broker's message: the envelope as the body, the headers as message headers.
 * @publicApi
 */
export interface OutboxMessage {
  readonly envelope: EventEnvelope;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The payload as JSON text, as the database returned it. A serializer that writes JSON
   * splices it in, rather than have the payload parsed and encoded again for every event.
   */
  readonly payloadJson?: string;
}
