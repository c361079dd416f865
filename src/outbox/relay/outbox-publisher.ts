import { Inject, Injectable } from '@nestjs/common';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OutboxPublishError } from '../errors/outbox-publish.error.js';
import { aggregateKey } from '../message/aggregate-key.js';
import type { ClaimedEvent } from '../message/claimed-event.js';
import { OUTBOX_OPTIONS } from '../outbox.constants.js';
import { isBrokerSide } from './relay-decisions.js';
import {
  OUTBOX_TRANSPORT,
  type OutboxTransport,
  type PublishFailure,
} from '../transport/outbox-transport.js';

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
      readonly failure: PublishFailure;
    }
  /** Not sent: an earlier event of its aggregate failed in this batch, or time ran out. */
  | { readonly id: string; readonly status: 'blocked' };

export type FailedOutcome = Extract<PublishOutcome, { status: 'failed' }>;

/**
 * Publishes a batch through the transport in waves: each wave holds the next event of every
 * aggregate whose previous event was acknowledged, at most `maxInFlight` at once, and the
 * transport pipelines it. Across aggregates nothing waits; within one, an event is sent only
 * after the previous one was acknowledged, and not at all once one failed: a later event must
 * never reach the broker before an earlier one that is still to be retried.
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
      const key = aggregateKey(aggregate_type, aggregate_id);
      const chain = chains.get(key);
      if (chain) chain.push(event);
      else chains.set(key, [event]);
    }
    const outcomes = new Map<string, PublishOutcome>();
    // Sending stops after one publish timeout: a long chain of one hot aggregate (one round
    // trip per event) must not outlive the claim transaction's limits. The rest is 'blocked'
    // and goes out in the next batch.
    const deadline = Date.now() + this.options.publishTimeoutMs;
    let live = [...chains.values()];
    sending: for (let step = 0; live.length > 0; step++) {
      for (let at = 0; at < live.length; at += this.options.maxInFlight) {
        if (Date.now() > deadline) break sending;
        const wave = live.slice(at, at + this.options.maxInFlight).map((chain) => chain[step]);
        const sent = await this.send(wave);
        for (const outcome of sent) outcomes.set(outcome.id, outcome);
        // The broker is away: the rest would only wait for their own timeouts. It is left
        // for the next batch, after the relay's outage pause.
        if (sent.every((o) => o.status === 'failed' && isBrokerSide(o.failure))) {
          break sending;
        }
      }
      live = live.filter(
        (chain) =>
          step + 1 < chain.length && outcomes.get(chain[step].id)?.status === 'acknowledged',
      );
    }
    return events.map((e) => outcomes.get(e.id) ?? { id: e.id, status: 'blocked' });
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
        : (await this.send([event]))[0];
      failed ||= outcome.status === 'failed';
      outcomes.push(outcome);
    }
    return outcomes;
  }

  /**
   * One call to the transport. Its signal bounds the call at twice the publish timeout: a
   * transport that hangs past its own timeout cannot hold the claim transaction forever.
   */
  private async send(events: readonly ClaimedEvent[]): Promise<PublishOutcome[]> {
    const signal = AbortSignal.timeout(this.options.publishTimeoutMs * 2);
    const results = await this.transport.publish(
      events.map((e) => e.message),
      signal,
    );
    return events.map((event, i): PublishOutcome => {
      const result = results[i];
      if (result?.status === 'acknowledged') {
        return { id: event.id, status: 'acknowledged', duplicate: result.duplicate };
      }
      const error = new OutboxPublishError(
        event.message.envelope.event_id,
        result ? result.error : new Error(`transport ${this.transport.name} returned no result`),
      );
      return { id: event.id, status: 'failed', error, failure: result?.failure ?? 'retry' };
    });
  }
}
