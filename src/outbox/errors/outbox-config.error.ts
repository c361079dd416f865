import { OutboxError } from './outbox.error.js';

/** One rejected setting: where it came from and why it was rejected. @publicApi */
export interface OutboxConfigIssue {
  /** The environment variable (`OUTBOX_BATCH_SIZE`) or option (`forRoot({ batchSize })`). */
  readonly source: string;
  readonly reason: string;
}

/**
 * Thrown at start-up when an environment variable or a `forRoot` option is invalid.
 * It lists every bad setting at once, so a deploy is fixed in one round.
 * @publicApi
 */
export class OutboxConfigError extends OutboxError {
  constructor(readonly issues: readonly OutboxConfigIssue[]) {
    super(
      `Invalid outbox configuration:\n${issues.map((i) => `  - ${i.source}: ${i.reason}`).join('\n')}`,
    );
  }
}
