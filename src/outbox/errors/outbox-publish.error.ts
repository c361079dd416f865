import { describeError } from './error-text.js';
import { OutboxError } from './outbox.error.js';

/**
 * A publish the broker did not acknowledge. Nest's clients reject with plain strings while
 * disconnected; this gives every failure one type and a message without credentials.
 * @publicApi
 */
export class OutboxPublishError extends OutboxError {
  constructor(
    readonly eventId: string,
    cause: unknown,
  ) {
    super(`Broker did not acknowledge event ${eventId}: ${describeError(cause)}`, { cause });
  }
}
