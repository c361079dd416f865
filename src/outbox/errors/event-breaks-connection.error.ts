import { describeError } from './error-text.js';
import { OutboxError } from './outbox.error.js';

/**
 * The cause recorded on an event that the broker can never take because publishing it breaks
 * the connection (nats-server drops a client whose subject overflows its control line): the
 * connection was lost while the event was published alone, and the broker answered at once
 * afterwards. The event becomes a dead letter so that the rest of the outbox keeps flowing.
 * @publicApi
 */
export class EventBreaksConnectionError extends OutboxError {
  constructor(readonly lostWith: unknown) {
    super(
      `publishing this event alone broke the broker connection, and the broker answered right after (${describeError(lostWith)})`,
      { cause: lostWith },
    );
  }
}
