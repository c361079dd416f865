import { aggregateKey } from '../message/aggregate-key.js';
import type { ClaimedEvent } from '../message/claimed-event.js';

/** One batch of this relay's, as `OwnBatches` follows it. */
export interface OwnBatch {
  /** The aggregates of the rows it locked, once its claim returned. */
  keys: Set<string> | undefined;
  /** How many batches had ended when it started, and its own place in that count once ended. */
  readonly startedAfter: number;
  endedAs: number | undefined;
}

/**
 * The aggregates that one drain round's batches have in flight, so that a claim can tell rows
 * held back behind this relay's own other batches (ready once those end) from rows held back
 * behind other relays. A batch counts for the claims that ran while it was in flight.
 */
export class OwnBatches {
  private ended = 0;
  private batches: OwnBatch[] = [];

  start(): OwnBatch {
    const batch: OwnBatch = { keys: undefined, startedAfter: this.ended, endedAs: undefined };
    this.batches.push(batch);
    return batch;
  }

  /** Of the aggregates `held` back in this batch's claim, how many no batch of ours explains. */
  claimed(batch: OwnBatch, events: readonly ClaimedEvent[], held: readonly string[]): number {
    // Its held rows count too: locked until it ends, they hold back later rows as well.
    batch.keys = new Set(held);
    for (const { message } of events) {
      batch.keys.add(aggregateKey(message.envelope.aggregate_type, message.envelope.aggregate_id));
    }
    const others = this.batches.filter(
      (b) => b !== batch && (b.endedAs === undefined || b.endedAs > batch.startedAfter),
    );
    return held.filter((key) => !others.some((b) => b.keys?.has(key))).length;
  }

  end(batch: OwnBatch): void {
    batch.endedAs = ++this.ended;
    // An ended batch matters only to claims that started before it ended.
    const oldestStart = Math.min(
      ...this.batches.filter((b) => b.endedAs === undefined).map((b) => b.startedAfter),
    );
    this.batches = this.batches.filter((b) => b.endedAs === undefined || b.endedAs > oldestStart);
  }
}
