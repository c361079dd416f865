import type { OutboxMessage } from './outbox-message.js';

/** A pending row locked by the relay's transaction, with the message to publish. */
export interface ClaimedEvent {
  /** The row's id: publication order within a batch. */
  readonly id: string;
  /** Failed publishes so far. */
  readonly attempts: number;
  /**
   * When the row was written (database clock, epoch milliseconds): the start of its
   * commit-to-publish lag.
   */
  readonly createdAtMs: number;
  readonly message: OutboxMessage;
}
