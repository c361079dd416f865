import { OutboxError } from './outbox.error.js';

/**
 * Thrown by `OutboxDeadLetterService` (and the CLI) for a filter or limit it cannot use: a
 * limit that is not a whole number from 1 to 10,000, an event id that is not a UUID, a filter
 * that names neither an event id nor an event type. Nothing reaches the database.
 * @publicApi
 */
export class InvalidDeadLetterQueryError extends OutboxError {
  constructor(readonly problem: string) {
    super(`Invalid dead-letter query: ${problem}`);
  }
}
