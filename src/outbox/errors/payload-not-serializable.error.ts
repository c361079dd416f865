import { errorMessage } from './error-text.js';
import { OutboxError } from './outbox.error.js';

/**
 * Thrown when an event's payload cannot be written as JSON (a BigInt, a circular reference).
 * @publicApi
 */
export class PayloadNotSerializableError extends OutboxError {
  constructor(
    readonly eventType: string,
    readonly eventId: string,
    cause: unknown,
  ) {
    super(
      `Payload of event "${eventType}" (${eventId}) is not JSON-serialisable: ${errorMessage(cause)}`,
      { cause },
    );
  }
}
