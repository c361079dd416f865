import { describeError, redactCredentials } from '../errors/error-text.js';
import { isObservable, lastValueFrom } from 'rxjs';

/**
 * Runs an event handler to its end, between Nest's processing hooks, and settles when its
 * work is done: rejects when the handler threw or its stream errored. Nest's own servers
 * cannot tell an event handler's success from its failure; a consumer that acknowledges
 * only after success must.
 *
 * `withHooks` is the server's `runWithProcessingHooks` bound to the message's context.
 */
export function handleToCompletion(
  withHooks: (fn: (runEndHook: () => void) => Promise<void>) => void,
  invoke: () => unknown,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    withHooks(async (runEndHook) => {
      try {
        const value: unknown = await invoke();
        if (isObservable(value)) await lastValueFrom(value, { defaultValue: undefined });
        resolve();
      } catch (error) {
        // Nest's exception filter rejects with a plain `{ status, message }` object.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        reject(error);
      } finally {
        runEndHook();
      }
    });
  });
}

/**
 * A handler failure as one line. Nest's exception filter turns a thrown error into
 * `{ status: 'error', message }` (and logs the original itself).
 */
export function handlerFailure(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  // A handler's database or HTTP error may carry a connection URL: never log its password.
  return error instanceof Error || typeof message !== 'string'
    ? describeError(error)
    : redactCredentials(message);
}
