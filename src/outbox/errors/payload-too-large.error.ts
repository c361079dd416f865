import { OutboxError } from './outbox.error.js';

/**
 * Thrown when an event's serialised payload and headers exceed `maxPayloadBytes`: the broker would refuse it
 * forever, so it is refused while the caller can still react.
 * @publicApi
 */
export class PayloadTooLargeError extends OutboxError {
  constructor(
    readonly eventType: string,
    readonly eventId: string,
    readonly sizeBytes: number,
    readonly maxBytes: number,
  ) {
    super(
      `Payload and headers of event "${eventType}" (${eventId}) are ${sizeBytes} bytes, over the limit of ${maxBytes} bytes (OUTBOX_MAX_PAYLOAD_BYTES)`,
    );
  }
}
