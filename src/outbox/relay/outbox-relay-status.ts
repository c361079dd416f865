/**
 * What the relay has done so far in this process; read by health indicators and metrics.
 * @publicApi
 */
export interface OutboxRelayStatus {
  /** Whether this process runs the relay (`OUTBOX_RELAY_ENABLED`). */
  readonly enabled: boolean;
  readonly running: boolean;
  /** When this relay was created: the reference for "no progress yet". */
  readonly since: Date;
  readonly lastTickStartedAt: Date | null;
  /** When a tick last ran to its end, successful or not: the loop is alive. */
  readonly lastTickCompletedAt: Date | null;
  /** When a batch was last committed: a long drain under backlog still shows progress. */
  readonly lastProgressAt: Date | null;
  /** Drains completed since start (cron ticks and wake-ups that did run). */
  readonly ticksTotal: number;
  readonly publishedTotal: number;
  /** Acknowledged re-publishes the broker dropped as duplicates (after a crash or a lost mark). */
  readonly duplicatesTotal: number;
  /** Publishes that failed and were charged to their event (an attempt counted). */
  readonly failedPublishesTotal: number;
  /** Events given up (dead letters) by this relay. */
  readonly deadLetteredTotal: number;
  /** Set while the relay waits out a broker outage. */
  readonly pausedUntil: Date | null;
  /** The last tick's error, if it had one (no credentials). */
  readonly lastError: string | null;
}
