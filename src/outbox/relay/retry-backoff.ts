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
