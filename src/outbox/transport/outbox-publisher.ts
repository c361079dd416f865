import { Inject, Injectable } from '@nestjs/common';
import { from, lastValueFrom, mergeMap, timeout, toArray } from 'rxjs';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OutboxPublishError } from '../errors/outbox-publish.error.js';
import { OUTBOX_OPTIONS } from '../outbox.constants.js';
import type { ClaimedEvent } from '../persistence/claimed-event.js';
import { OUTBOX_TRANSPORT, type OutboxTransport } from './outbox-transport.js';

/** The fate of one claimed event. */
export type PublishOutcome =
  | {
      readonly id: string;
      readonly status: 'acknowledged';
      /** The broker already had it (a re-publish after a crash) and dropped this copy. */
      readonly duplicate: boolean;
    }
  | {
      readonly id: string;
      readonly status: 'failed';
      readonly error: OutboxPublishError;
      /** The broker can never take this event: retrying is pointless. */
      readonly permanent: boolean;
    }
  /** Not sent, because an earlier event of its aggregate failed in this batch. */
  | { readonly id: string; readonly status: 'blocked' };

/**
 * Publishes a batch with up to `maxInFlight` acknowledgements outstanding, across
 * aggregates; awaiting each acknowledgement in turn would bound the relay by the round trip.
 * Within one aggregate, an event is sent only after the previous one was acknowledged, and
 * not at all once one failed: a later event must never reach the broker before an earlier
 * one that is still to be retried.
 */
@Injectable()
export class OutboxPublisher {
  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
    @Inject(OUTBOX_TRANSPORT) private readonly transport: OutboxTransport,
  ) {}

  async publishAll(events: readonly ClaimedEvent[]): Promise<PublishOutcome[]> {
    const chains = new Map<string, ClaimedEvent[]>();
    for (const event of events) {
      const { aggregate_type, aggregate_id } = event.message.envelope;
      const key = `${aggregate_type}\u0000${aggregate_id}`;
      const chain = chains.get(key);
      if (chain) chain.push(event);
      else chains.set(key, [event]);
    }
    // Sending stops after one publish timeout: a long chain of one hot aggregate (one round
    // trip per event) must not outlive the claim transaction's limits. The rest is 'blocked'
    // and goes out in the next batch.
    const deadline = Date.now() + this.options.publishTimeoutMs;
    const results = await lastValueFrom(
      from(chains.values()).pipe(
        mergeMap((chain) => this.publishChain(chain, deadline), this.options.maxInFlight),
        toArray(),
      ),
    );
    return results.flat();
  }

  /**
   * Publishes one event at a time, in claim order, and stops at the first failure: the rest
   * is 'blocked'. Used to find the event that broke the broker connection, which pipelining
   * cannot tell from the events sent beside it.
   */
  async publishInTurn(events: readonly ClaimedEvent[]): Promise<PublishOutcome[]> {
    const outcomes: PublishOutcome[] = [];
    let failed = false;
    for (const event of events) {
      const outcome: PublishOutcome = failed
        ? { id: event.id, status: 'blocked' }
        : await this.publish(event);
      failed ||= outcome.status === 'failed';
      outcomes.push(outcome);
    }
    return outcomes;
  }

  private async publishChain(
    chain: readonly ClaimedEvent[],
    deadline: number,
  ): Promise<PublishOutcome[]> {
    const outcomes: PublishOutcome[] = [];
    for (const event of chain) {
      const previous = outcomes.at(-1);
      outcomes.push(
        (previous && previous.status !== 'acknowledged') || Date.now() > deadline
          ? { id: event.id, status: 'blocked' }
          : await this.publish(event),
      );
    }
    return outcomes;
  }

  private async publish(event: ClaimedEvent): Promise<PublishOutcome> {
    const pattern = this.transport.patternFor(event.message.envelope.event_type);
    try {
      const result: unknown = this.transport.publish
        ? await this.transport.publish(pattern, event.message)
        : await lastValueFrom(
            this.transport.client
              .emit(pattern, event.message)
              // The transport has its own timeout; this one bounds a client that has none.
              .pipe(timeout(this.options.publishTimeoutMs + 1_000)),
            { defaultValue: undefined },
          );
      const { duplicate } = this.transport.acknowledgement(result);
      return { id: event.id, status: 'acknowledged', duplicate };
    } catch (cause) {
      return {
        id: event.id,
        status: 'failed',
        error: new OutboxPublishError(event.message.envelope.event_id, pattern, cause),
        permanent: this.transport.isPermanentFailure(cause),
      };
    }
  }
}
