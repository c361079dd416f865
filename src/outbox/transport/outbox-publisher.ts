import { Inject, Injectable } from '@nestjs/common';
import { from, lastValueFrom, mergeMap, timeout, toArray } from 'rxjs';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OutboxPublishError } from '../errors/outbox-publish.error.js';
import { OUTBOX_OPTIONS } from '../outbox.constants.js';
import type { ClaimedEvent } from '../persistence/claimed-event.js';
import { OUTBOX_TRANSPORT, type OutboxTransport } from './outbox-transport.js';

/** The fate of one claimed event. */
export type PublishOutcome =
  | { readonly id: string; readonly ok: true }
  | { readonly id: string; readonly ok: false; readonly error: OutboxPublishError };

/**
 * Publishes a batch with up to `maxInFlight` acknowledgements outstanding: awaiting each
 * acknowledgement in turn would bound the relay by the round trip, not by the broker.
 * Messages leave in claim order over one connection, so the broker stores them in that order.
 */
@Injectable()
export class OutboxPublisher {
  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
    @Inject(OUTBOX_TRANSPORT) private readonly transport: OutboxTransport,
  ) {}

  publishAll(events: readonly ClaimedEvent[]): Promise<PublishOutcome[]> {
    return lastValueFrom(
      from(events).pipe(
        mergeMap((event) => this.publish(event), this.options.maxInFlight),
        toArray(),
      ),
    );
  }

  private async publish(event: ClaimedEvent): Promise<PublishOutcome> {
    const pattern = this.transport.patternFor(event.message.envelope.event_type);
    try {
      const result: unknown = await lastValueFrom(
        this.transport.client
          .emit(pattern, event.message)
          // The transport has its own timeout; this one bounds a client that has none.
          .pipe(timeout(this.options.publishTimeoutMs + 1_000)),
        { defaultValue: undefined },
      );
      this.transport.assertAcknowledged(result);
      return { id: event.id, ok: true };
    } catch (cause) {
      return {
        id: event.id,
        ok: false,
        error: new OutboxPublishError(event.message.envelope.event_id, pattern, cause),
      };
    }
  }
}
