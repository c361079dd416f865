import type { ClientProxy } from '@nestjs/microservices';
import type { OutboxMessage } from './outbox-message.js';

/**
 * The broker side of the relay: a Nest `ClientProxy` whose `emit()` completes only once the
 * broker acknowledged the message, and what the broker needs around it.
 * @publicApi
 */
export interface OutboxTransport {
  /** Human-readable name for logs and health output, never credentials. */
  readonly name: string;
  /** The relay needs only these; each transport's client keeps its own event and status types. */
  readonly client: Pick<ClientProxy, 'emit' | 'connect' | 'close'>;
  /**
   * Optional: what `client.emit()` does for one message, as a promise of its result, without
   * the Observables around it. The relay prefers it: at thousands of events per second, the
   * per-event Observables and timers are a measurable share of its CPU. It must settle on its
   * own (a publish timeout), since no outer timeout is added.
   */
  publish?(pattern: string, message: OutboxMessage): Promise<unknown>;
  /** The subject or routing key an event type is published on. */
  patternFor(eventType: string): string;
  /** Makes sure the broker side exists (stream, exchange). Idempotent; cheap once it succeeded. */
  prepare(): Promise<void>;
  /** Forgets a successful `prepare()`, after publishes failed, so the next one checks again. */
  invalidate(): void;
  /**
   * Reads `emit()`'s result; throws unless it is the acknowledgement this transport promises
   * (for JetStream: a PubAck from the configured stream), which guards against a client that
   * completes without one. `duplicate` is true when the broker dropped it as a re-publish.
   */
  acknowledgement(result: unknown): { duplicate: boolean };
  /** Whether `emit()`'s error means the broker can never take this event (too large...). */
  isPermanentFailure(error: unknown): boolean;
  /**
   * Whether the error is about the broker or the connection rather than the event (down,
   * nothing captures the subject, no acknowledgement in time): such failures never count
   * against an event's attempts, so an outage dead-letters nothing.
   */
  isConnectionFailure(error: unknown): boolean;
  /**
   * Optional: how many times the connection was lost so far. When it grows during a batch and
   * the broker answers right after, the relay suspects an event that breaks the connection
   * (nats-server drops a client whose subject overflows its control line) and publishes the
   * batch one event at a time to find it, rather than pausing for an outage forever.
   */
  connectionLosses?(): number;
  /**
   * Probes the application's own connection (no new connection per probe): resolves with
   * details for health output, or rejects with the reason. Never includes credentials.
   */
  checkHealth(): Promise<Record<string, unknown>>;
}

/** Injection token of the `OutboxTransport`. @publicApi */
export const OUTBOX_TRANSPORT = Symbol('OUTBOX:TRANSPORT');
