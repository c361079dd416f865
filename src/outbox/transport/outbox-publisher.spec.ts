import { Observable, throwError } from 'rxjs';
import { resolveOutboxOptions } from '../config/resolve-outbox-options.js';
import { OutboxPublishError } from '../errors/outbox-publish.error.js';
import type { ClaimedEvent } from '../persistence/claimed-event.js';
import { OutboxPublisher } from './outbox-publisher.js';
import type { OutboxTransport } from './outbox-transport.js';

/** `n` events spread round-robin over `aggregates` aggregates; payload = position. */
function claimed(n: number, aggregates = n): ClaimedEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: String(i + 1),
    attempts: 0,
    createdAt: new Date(),
    message: {
      envelope: {
        event_id: `e-${i}`,
        event_type: 'a.b',
        event_version: '1',
        aggregate_type: 'a',
        aggregate_id: `x${i % aggregates}`,
        occurred_at: '2026-01-01T00:00:00.000Z',
        payload: i,
      },
      headers: {},
    },
  }));
}

/** A plain fake client: `emit` is given; the rest behaves like a JetStream transport. */
function fakeTransport(
  emit: (pattern: string, data: ClaimedEvent['message']) => Observable<unknown>,
): OutboxTransport {
  return {
    name: 'fake',
    client: { emit, connect: () => Promise.resolve(), close: () => Promise.resolve() },
    patternFor: (type) => `p.${type}`,
    prepare: () => Promise.resolve(),
    invalidate: () => undefined,
    acknowledgement: (ack) => {
      if (!ack) throw new Error('no PubAck received');
      return { duplicate: false };
    },
    isPermanentFailure: (error) => error instanceof RangeError,
    isConnectionFailure: (error) => typeof error === 'string',
    checkHealth: () => Promise.resolve({}),
  } as OutboxTransport;
}

function ackAfterTick(onSend: (m: ClaimedEvent['message']) => void, onAck = () => {}) {
  return (_: string, data: ClaimedEvent['message']) =>
    new Observable((subscriber) => {
      onSend(data);
      setTimeout(() => {
        onAck();
        subscriber.next({ seq: 1 });
        subscriber.complete();
      }, 1);
    });
}

describe('OutboxPublisher', () => {
  it('keeps at most maxInFlight publishes outstanding across aggregates, one at a time within one', async () => {
    let inFlight = 0;
    let peak = 0;
    const sent: number[] = [];
    const transport = fakeTransport(
      ackAfterTick(
        (m) => {
          sent.push(m.envelope.payload as number);
          peak = Math.max(peak, ++inFlight);
        },
        () => inFlight--,
      ),
    );
    const options = resolveOutboxOptions({ env: {}, maxInFlight: 8 });
    const outcomes = await new OutboxPublisher(options, transport).publishAll(claimed(100, 20));

    expect(outcomes.every((o) => o.status === 'acknowledged')).toBe(true);
    expect(peak).toBe(8);
    // Within each aggregate, events left in claim order.
    for (let a = 0; a < 20; a++) {
      const chain = sent.filter((p) => p % 20 === a);
      expect(chain).toEqual([...chain].sort((x, y) => x - y));
    }
  });

  it('after a failure, holds back the later events of that aggregate but not of others', async () => {
    const transport = fakeTransport((_, m) =>
      m.envelope.payload === 2
        ? throwError(() => new Error('nope'))
        : ackAfterTick(() => {})('', m),
    );
    const options = resolveOutboxOptions({ env: {} });
    // Aggregates x0: events 0,2,4; x1: events 1,3,5.
    const outcomes = await new OutboxPublisher(options, transport).publishAll(claimed(6, 2));
    const byId = Object.fromEntries(outcomes.map((o) => [o.id, o.status]));
    expect(byId).toEqual({
      '1': 'acknowledged',
      '3': 'failed',
      '5': 'blocked',
      '2': 'acknowledged',
      '4': 'acknowledged',
      '6': 'acknowledged',
    });
  });

  it('turns a string rejection into a typed OutboxPublishError naming the event and subject', async () => {
    const transport = fakeTransport(() =>
      throwError(() => 'Error: Connection lost. Trying to reconnect...'),
    );
    const options = resolveOutboxOptions({ env: {} });
    const [outcome] = await new OutboxPublisher(options, transport).publishAll(claimed(1));

    expect(outcome.status).toBe('failed');
    const { error, permanent } = outcome as { error: OutboxPublishError; permanent: boolean };
    expect(error).toBeInstanceOf(OutboxPublishError);
    expect(permanent).toBe(false);
    expect(error.message).toBe(
      'Broker did not acknowledge event e-0 on "p.a.b": Error: Connection lost. Trying to reconnect...',
    );
  });

  it('flags failures the transport calls permanent, and does not count a publish without acknowledgement', async () => {
    const options = resolveOutboxOptions({ env: {} });
    const tooBig = fakeTransport(() => throwError(() => new RangeError('max_payload')));
    const [permanent] = await new OutboxPublisher(options, tooBig).publishAll(claimed(1));
    expect(permanent).toMatchObject({ status: 'failed', permanent: true });

    const silent = fakeTransport(() => new Observable((subscriber) => subscriber.complete()));
    const [unacknowledged] = await new OutboxPublisher(options, silent).publishAll(claimed(1));
    expect(unacknowledged.status).toBe('failed');
    expect((unacknowledged as { error: Error }).error.message).toMatch(/no PubAck received/);
  });

  it('stops sending after one publish timeout and leaves the rest of the batch blocked', async () => {
    // One aggregate: a chain that would take 100 × 20 ms, against a 200 ms timeout.
    const slowAck = (_: string, data: ClaimedEvent['message']) =>
      new Observable((subscriber) => {
        void data;
        setTimeout(() => {
          subscriber.next({ seq: 1 });
          subscriber.complete();
        }, 20);
      });
    const options = resolveOutboxOptions({ env: {}, publishTimeoutMs: 200 });
    const outcomes = await new OutboxPublisher(options, fakeTransport(slowAck)).publishAll(
      claimed(100, 1),
    );
    const acknowledged = outcomes.filter((o) => o.status === 'acknowledged').length;
    expect(acknowledged).toBeGreaterThan(0);
    expect(acknowledged).toBeLessThan(20);
    expect(outcomes.slice(acknowledged).every((o) => o.status === 'blocked')).toBe(true);
  });

  it('publishes in turn one event at a time, in claim order, and blocks the rest after a failure', async () => {
    let inFlight = 0;
    let peak = 0;
    const sent: number[] = [];
    const transport = fakeTransport((_, m) =>
      m.envelope.payload === 3
        ? throwError(() => 'Connection lost')
        : ackAfterTick(
            () => {
              sent.push(m.envelope.payload as number);
              peak = Math.max(peak, ++inFlight);
            },
            () => inFlight--,
          )('', m),
    );
    const options = resolveOutboxOptions({ env: {} });
    const outcomes = await new OutboxPublisher(options, transport).publishInTurn(claimed(6));
    expect(peak).toBe(1);
    expect(sent).toEqual([0, 1, 2]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'acknowledged',
      'acknowledged',
      'acknowledged',
      'failed',
      'blocked',
      'blocked',
    ]);
  });
});
