import { OutboxError } from './outbox.error.js';

/**
 * Thrown before any SQL when an inbox key cannot be used: an empty or overlong consumer name
 * or event id, or a message that carries no event id at all. Such a message can never be
 * de-duplicated, so it is refused rather than processed blindly.
 * @publicApi
 */
export class InvalidInboxKeyError extends OutboxError {
  constructor(readonly problem: string) {
    super(`Cannot de-duplicate this event: ${problem}`);
  }
}
