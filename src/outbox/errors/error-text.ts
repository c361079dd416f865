/**
 * How an error reaches a log line, a status field or health output: one line, with any
 * `user:password@` in a URL hidden. Nest's clients reject with plain strings, so anything
 * thrown is accepted.
 */

/** Hides `user:password@` in any URL inside a message. */
export function redactCredentials(message: string): string {
  return message.replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@]+@/gi, '$1***@');
}

/** The error's message. */
export function errorMessage(error: unknown): string {
  return redactCredentials(error instanceof Error ? error.message : String(error));
}

/** `Name: message`, for causes whose class tells what happened (TimeoutError, ...). */
export function describeError(error: unknown): string {
  return redactCredentials(
    error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  );
}
