import { OutboxError } from './outbox.error.js';

/**
 * Thrown when an event cannot be recorded as it is: a malformed type or version, an empty
 * aggregate id. Raised before anything reaches the database, so the caller's transaction decides.
 * @publicApi
 */
export class InvalidDomainEventError extends OutboxError {
  constructor(
    readonly eventType: string,
    readonly problem: string,
  ) {
    super(`Invalid domain event "${eventType}": ${problem}`);
  }
}
