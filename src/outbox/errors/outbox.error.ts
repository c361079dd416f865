/**
 * Base class of every error this library throws, so callers can catch them as one family.
 * @publicApi
 */
export class OutboxError extends Error {
  override readonly name: string = this.constructor.name;
}
