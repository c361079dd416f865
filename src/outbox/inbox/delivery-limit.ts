import { InvalidInboxKeyError } from '../errors/invalid-inbox-key.error.js';

/**
 * What a consumer does with a message whose handler failed, decided in one place for both
 * servers: deliver it again later, or stop and dead-letter it. A message that can never
 * succeed (its body or its inbox key is unusable) is dead-lettered at once; any other failure
 * gets `maxDeliveries` deliveries in all. Without a bound, poison messages fill the
 * consumer's window (JetStream's `max_ack_pending`, AMQP's prefetch) and nothing else is
 * delivered.
 */
export type FailedDelivery = 'retry' | 'dead-letter';

/** The default number of deliveries a message gets before it is dead-lettered. */
export const DEFAULT_MAX_DELIVERIES = 5;

/**
 * Failures that no redelivery can fix. Nest's exception filter hands the consumer a plain
 * `{ status, message }` rather than the error itself, so they are known by their message.
 */
const NEVER_SUCCEEDS = [InvalidInboxKeyError.MESSAGE_PREFIX];

export function afterFailure(
  error: unknown,
  delivery: number,
  maxDeliveries: number,
): FailedDelivery {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message === 'string' && NEVER_SUCCEEDS.some((p) => message.startsWith(p))) {
    return 'dead-letter';
  }
  return delivery >= maxDeliveries ? 'dead-letter' : 'retry';
}

/** Validates a `maxDeliveries` option where it is given. */
export function checkedMaxDeliveries(value: number | undefined, owner: string): number {
  const max = value ?? DEFAULT_MAX_DELIVERIES;
  if (!Number.isInteger(max) || max < 1) {
    throw new TypeError(`${owner} maxDeliveries must be a whole number of at least 1: ${max}`);
  }
  return max;
}
