import { OutboxError } from './outbox.error.js';

/**
 * Thrown before any SQL when an inbox key cannot be used: an empty or overlong consumer name
 * or event id, or a message that carries no event id at all. Such a message can never be
 * de-duplicated, so it is refused rather than processed blindly.
 * @publicApi
 */
export class InvalidInboxKeyError extends OutboxError {
  /** How its message starts; consumers recognise it by it once Nest made it a plain object. */
  static readonly MESSAGE_PREFIX = 'Cannot de-duplicate this event:';

  constructor(readonly problem: string) {
    super(`${InvalidInboxKeyError.MESSAGE_PREFIX} ${problem}`);
  }
}
