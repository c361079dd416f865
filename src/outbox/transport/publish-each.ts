import type { OutboxMessage } from '../message/outbox-message.js';
import type { OnceUntilFailure } from '../utils/once-until-failure.js';
import type { PublishResult } from './outbox-transport.js';

/**
 * What the adapters' `publish()` is: the broker side prepared first (stream, exchange), then
 * every message sent at once (the relay already bounds a batch by `relay.maxInFlight`), each
 * settled by `publishOne`, which must not reject. A preparation that fails makes the whole
 * batch `unavailable`; one that may be stale (the broker side was deleted) is done again before
 * the next batch. Once `signal` aborts, results still outstanding settle as `unavailable`.
 * @internal
 */
export async function publishEach(
  messages: readonly OutboxMessage[],
  signal: AbortSignal,
  preparation: OnceUntilFailure,
  publishOne: (message: OutboxMessage) => Promise<PublishResult>,
): Promise<PublishResult[]> {
  try {
    await preparation.run();
  } catch (error) {
    return messages.map(() => ({ status: 'failed', failure: 'unavailable', error }));
  }
  const aborted = new Promise<PublishResult>((resolve) => {
    const settle = () =>
      resolve({ status: 'failed', failure: 'unavailable', error: new Error('publish aborted') });
    if (signal.aborted) settle();
    else signal.addEventListener('abort', settle, { once: true });
  });
  const results = await Promise.all(messages.map((m) => Promise.race([publishOne(m), aborted])));
  if (results.some((r) => r.status === 'failed' && r.failure !== 'retry')) preparation.reset();
  return results;
}
