import { Observable, throwError } from 'rxjs';
import { resolveOutboxOptions } from '../config/resolve-outbox-options.js';
import { OutboxPublishError } from '../errors/outbox-publish.error.js';
import type { ClaimedEvent } from '../persistence/claimed-event.js';
import { OutboxPublisher } from './outbox-publisher.js';
import type { OutboxTransport } from './outbox-transport.js';

function claimed(n: number): ClaimedEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: String(i + 1),
    message: {
      envelope: {
        event_id: `e-${i}`,
        event_type: 'a.b',
        event_version: '1',
        aggregate_type: 'a',
        aggregate_id: 'x',
        occurred_at: '2026-01-01T00:00:00.000Z',
        payload: i,
      },
      headers: {},
    },
  }));
}

/** A plain fake client: acknowledges after a tick, or rejects the way Nest's clients do. */
function fakeTransport(
  emit: (pattern: string, data: unknown) => Observable<unknown>,
): OutboxTransport {
  return {
    name: 'fake',
    client: { emit, connect: () => Promise.resolve(), close: () => Promise.resolve() },
    patternFor: (type) => `p.${type}`,
    prepare: () => Promise.resolve(),
    invalidate: () => undefined,
    assertAcknowledged: (ack) => {
      if (!ack) throw new Error('no PubAck received');
    },
  } as OutboxTransport;
}

describe('OutboxPublisher', () => {
  it('keeps at most maxInFlight publishes outstanding, and sends them in claim order', async () => {
    let inFlight = 0;
    let peak = 0;
    const sent: unknown[] = [];
    const transport = fakeTransport(
      (_pattern, data) =>
        new Observable((subscriber) => {
          sent.push((data as ClaimedEvent['message']).envelope.payload);
          peak = Math.max(peak, ++inFlight);
          setTimeout(() => {
            inFlight--;
            subscriber.next({ seq: 1 });
            subscriber.complete();
          }, 1);
        }),
    );
    const options = resolveOutboxOptions({ env: {}, maxInFlight: 8 });
    const outcomes = await new OutboxPublisher(options, transport).publishAll(claimed(100));

    expect(outcomes.every((o) => o.ok)).toBe(true);
    expect(peak).toBe(8);
    expect(sent).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('turns a string rejection into a typed OutboxPublishError naming the event and subject', async () => {
    const transport = fakeTransport(() =>
      throwError(() => 'Error: Connection lost. Trying to reconnect...'),
    );
    const options = resolveOutboxOptions({ env: {} });
    const [outcome] = await new OutboxPublisher(options, transport).publishAll(claimed(1));

    expect(outcome.ok).toBe(false);
    const error = (outcome as { error: OutboxPublishError }).error;
    expect(error).toBeInstanceOf(OutboxPublishError);
    expect(error.message).toBe(
      'Broker did not acknowledge event e-0 on "p.a.b": Error: Connection lost. Trying to reconnect...',
    );
  });

  it('does not count a publish that completed without an acknowledgement', async () => {
    const transport = fakeTransport(() => new Observable((subscriber) => subscriber.complete()));
    const options = resolveOutboxOptions({ env: {} });
    const [outcome] = await new OutboxPublisher(options, transport).publishAll(claimed(1));
    expect(outcome.ok).toBe(false);
    expect((outcome as { error: Error }).error.message).toMatch(/no PubAck received/);
  });
});
