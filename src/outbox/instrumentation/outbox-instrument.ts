import type { DomainEvent } from '../events/domain-event.js';
import type { ClaimedEvent } from '../message/claimed-event.js';

/** One charged publish failure in a batch. @publicApi */
export interface RelayedFailure {
  readonly event: ClaimedEvent;
  /** Already free of credentials. */
  readonly error: string;
  /** Out of attempts or never publishable: now a dead letter. */
  readonly gaveUp: boolean;
}

/** What one relay batch did, reported after its transaction committed. @publicApi */
export interface OutboxBatchReport {
  /** Rows the batch could publish (claimed and not held back for ordering). */
  readonly claimed: readonly ClaimedEvent[];
  /** Acknowledged by the broker and marked published, duplicates included. */
  readonly published: readonly ClaimedEvent[];
  /** Of `published`, the copies the broker already had and dropped. */
  readonly duplicates: number;
  /** Failures charged to their events (retry scheduled, or given up). */
  readonly failed: readonly RelayedFailure[];
  /** Publishes sent to the broker, whatever their outcome. */
  readonly attempts: number;
  /** True when the broker was unavailable: nothing was charged to the events. */
  readonly outage: boolean;
  /** From the claim to the commit. */
  readonly durationMs: number;
}

/**
 * A hook into the write path and the relay, for metrics and tracing integrations. Every
 * method is optional and called synchronously on the hot path, so keep them cheap; an
 * exception thrown by one is logged and ignored, never allowed to fail a write or a batch.
 * @publicApi
 */
export interface OutboxInstrument {
  /**
   * Headers stamped on every event of one `add()`/`record()` call, read in the producer's
   * context (for example its active trace context). The event's own headers win.
   */
  writeHeaders?(): Readonly<Record<string, string>> | undefined;
  /** The events were inserted in the caller's transaction (which may still roll back). */
  eventsRecorded?(events: readonly DomainEvent[]): void;
  /** Runs one batch's publishing; a tracing integration opens a span around it. */
  aroundPublish?<T>(events: readonly ClaimedEvent[], publish: () => Promise<T>): Promise<T>;
  /** The batch committed. */
  batchRelayed?(report: OutboxBatchReport): void;
}
