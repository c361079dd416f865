import { describeError } from '../errors/error-text.js';
import type { PublishFailure } from '../transport/outbox-transport.js';
import type { FailedOutcome, PublishOutcome } from './outbox-publisher.js';

/**
 * The relay's decisions, as pure functions: whether a batch met an outage, which failures
 * cost their event an attempt, when to retry, when to give up. The relay service only
 * orchestrates claims, publishes and commits around them.
 */

/** Retry settings the decisions read. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
}

/** A relay pauses at most this long for an outage, however long it lasts. */
export const MAX_OUTAGE_PAUSE_MS = 30_000;

/**
 * Exponential backoff with "full jitter": a random delay up to base·2^(attempt-1), capped.
 * The randomness spreads retries of many events (and of many relays after an outage) so they
 * do not all come back at the same instant.
 */
export function retryDelayMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  // Never below half the ceiling, so a retry is not immediate by bad luck.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/** Whether the failure is the broker's or the connection's rather than the event's. */
export function isBrokerSide(failure: PublishFailure): boolean {
  return failure === 'unavailable' || failure === 'connection-lost';
}

/**
 * The broker is the problem, not the events, when every failure is on the broker's side, or
 * when nothing was acknowledged and every publish failed the same way. An hour-long outage
 * then costs no attempts and dead-letters nothing. Returns the failure to report, if any.
 */
export function outageOf(
  failed: readonly FailedOutcome[],
  acknowledged: number,
): FailedOutcome | undefined {
  if (failed.length === 0 || failed.some((f) => f.failure === 'never')) return undefined;
  const [first] = failed;
  const cause = (f: FailedOutcome) => describeError(f.error.cause);
  const brokerSide = failed.every((f) => isBrokerSide(f.failure));
  const uniform =
    acknowledged === 0 && failed.length > 1 && failed.every((f) => cause(f) === cause(first));
  return brokerSide || uniform ? first : undefined;
}

/**
 * The failures that cost their event an attempt: none in an outage, and never one on the
 * broker's side, even when part of the batch got through.
 */
export function chargedFailures(
  failed: readonly FailedOutcome[],
  outage: FailedOutcome | undefined,
): FailedOutcome[] {
  return outage ? [] : failed.filter((f) => !isBrokerSide(f.failure));
}

/** A charged failure's next step: retry after a delay, or give up (a dead letter). */
export function nextStep(
  failure: FailedOutcome,
  attemptsBefore: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): { retryInMs: number; giveUp: boolean } {
  const attempt = attemptsBefore + 1;
  return {
    retryInMs: retryDelayMs(attempt, policy.retryBaseMs, policy.retryMaxMs, random),
    giveUp: failure.failure === 'never' || attempt >= policy.maxAttempts,
  };
}

/**
 * Outages in a row that are retried quickly: a cluster electing a new stream leader, or a
 * client failing over to another server, is back within seconds, and a relay that backed off
 * meanwhile would lag a bare client by the backoff.
 */
export const QUICK_OUTAGE_RETRIES = 8;
/** The pause between those quick retries, at most. */
export const QUICK_OUTAGE_PAUSE_MS = 250;

/** How long the relay pauses after its `streak`-th outage in a row. */
export function outagePauseMs(
  streak: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  // Capped lower than an event's retry: once the broker is back, the backlog should move
  // within seconds, not after the longest retry delay.
  const max = Math.min(policy.retryMaxMs, MAX_OUTAGE_PAUSE_MS);
  if (streak <= QUICK_OUTAGE_RETRIES) {
    return retryDelayMs(1, Math.min(policy.retryBaseMs, QUICK_OUTAGE_PAUSE_MS), max, random);
  }
  return retryDelayMs(streak - QUICK_OUTAGE_RETRIES, policy.retryBaseMs, max, random);
}

/**
 * Whether a batch's outcome may hide an event that breaks the connection: the connection was
 * lost while some of it was in flight. The relay then asks the broker whether it answers.
 */
export function mayHideConnectionBreaker(outcomes: readonly PublishOutcome[]): boolean {
  return outcomes.some((o) => o.status === 'failed' && o.failure === 'connection-lost');
}

/** What a batch told its drain loop: how many rows it locked, held back, and published. */
export interface BatchShape {
  readonly locked: number;
  /** Locked, but an earlier event of their aggregate is not done. */
  readonly heldBack: number;
  /** Of those, the ones behind no batch of this relay's: other relays hold their predecessors. */
  readonly heldElsewhere: number;
  readonly published: number;
}

/**
 * What a drain loop does after a batch.
 * - `next`: a backlog; claim again (and another loop may start beside this one).
 * - `end`: the backlog is done, for this loop.
 * - `after-own`: held back whole behind this relay's other batches, which took the earlier
 *   events of the same aggregates: look again once one of them has ended. Ending instead left
 *   one batch in flight to the end of the drain, or ended it with events pending.
 * - `after-progress`: held back whole behind other relays' rows: look again once, after this
 *   relay published something; else end, and add no loop this round.
 * - `crowded`: most of two full batches in a row waited on earlier events, some held by other
 *   relays: more batches are in flight than the backlog's aggregates allow (several relays on
 *   few aggregates). One loop fewer claims less for nothing. Rows behind the relay's own
 *   batches never count: a relay alone drains faster with two batches, even out of step.
 * `crowded` is the count of such batches in a row, carried from one call to the next.
 */
export function loopStep(
  batch: BatchShape,
  batchSize: number,
  crowded: number,
): { step: 'next' | 'end' | 'after-own' | 'after-progress' | 'crowded'; crowded: number } {
  const full = batch.locked >= batchSize;
  if (full && batch.published > 0) {
    const crowding = batch.heldBack * 2 > batch.locked && batch.heldElsewhere > 0;
    const inRow = crowding ? crowded + 1 : 0;
    return { step: inRow >= 2 ? 'crowded' : 'next', crowded: inRow };
  }
  if (!full || batch.heldBack < batch.locked) return { step: 'end', crowded };
  return { step: batch.heldElsewhere === 0 ? 'after-own' : 'after-progress', crowded };
}
