import { resolveOutboxOptions } from '../config/resolve-outbox-options.js';
import { OutboxPublishError } from '../errors/outbox-publish.error.js';
import type { ClaimedEvent } from '../message/claimed-event.js';
import type { OutboxMessage } from '../message/outbox-message.js';
import type { OutboxTransport, PublishResult } from '../transport/outbox-transport.js';
import { OutboxPublisher } from './outbox-publisher.js';

/** `n` events spread round-robin over `aggregates` aggregates; payload = position. */
function claimed(n: number, aggregates = n): ClaimedEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    id: String(i + 1),
    attempts: 0,
    createdAtMs: Date.now(),
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

/** A plain fake transport: `send` decides each message's result. */
function fakeTransport(send: (message: OutboxMessage) => Promise<PublishResult>): OutboxTransport {
  return {
    name: 'fake',
    publish: (messages) => Promise.all(messages.map(send)),
    checkHealth: () => Promise.resolve({}),
  };
}

/** Resolved options with `relay` settings; the transport is passed to the publisher directly. */
const optionsWith = (relay: { maxInFlight?: number; publishTimeoutMs?: number } = {}) =>
  resolveOutboxOptions({
    transport: () => {
      throw new Error('not used: the publisher is given its transport');
    },
    relay,
  });
const ack = (): PublishResult => ({ status: 'acknowledged', duplicate: false });
const after = <T>(ms: number, value: () => T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value()), ms));
const payloadOf = (m: OutboxMessage) => m.envelope.payload as number;

describe('OutboxPublisher', () => {
  it('keeps at most maxInFlight publishes outstanding across aggregates, one at a time within one', async () => {
    let inFlight = 0;
    let peak = 0;
    const sent: number[] = [];
    const transport = fakeTransport((m) => {
      sent.push(payloadOf(m));
      peak = Math.max(peak, ++inFlight);
      return after(1, () => {
        inFlight--;
        return ack();
      });
    });
    const options = optionsWith({ maxInFlight: 8 });
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
    const transport = fakeTransport((m) =>
      payloadOf(m) === 2
        ? Promise.resolve({ status: 'failed', failure: 'retry', error: new Error('nope') })
        : after(1, ack),
    );
    const options = optionsWith();
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
    // In claim order, whatever order the broker answered in.
    expect(outcomes.map((o) => o.id)).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('turns a failure into a typed OutboxPublishError naming the event, with the failure kind', async () => {
    const transport = fakeTransport(() =>
      Promise.resolve({
        status: 'failed',
        failure: 'unavailable',
        error: 'Error: Connection lost. Trying to reconnect...',
      }),
    );
    const [outcome] = await new OutboxPublisher(optionsWith(), transport).publishAll(claimed(1));

    expect(outcome).toMatchObject({ status: 'failed', failure: 'unavailable' });
    const { error } = outcome as { error: OutboxPublishError };
    expect(error).toBeInstanceOf(OutboxPublishError);
    expect(error.message).toBe(
      'Broker did not acknowledge event e-0: Error: Connection lost. Trying to reconnect...',
    );
  });

  it('counts a missing result as a failure, never as an acknowledgement', async () => {
    const transport: OutboxTransport = {
      name: 'silent',
      publish: () => Promise.resolve([]),
      checkHealth: () => Promise.resolve({}),
    };
    const [outcome] = await new OutboxPublisher(optionsWith(), transport).publishAll(claimed(1));
    expect(outcome).toMatchObject({ status: 'failed', failure: 'retry' });
    expect((outcome as { error: Error }).error.message).toMatch(/returned no result/);
  });

  it('stops sending after one publish timeout and leaves the rest of the batch blocked', async () => {
    // One aggregate: a chain that would take 100 × 20 ms, against a 200 ms timeout.
    const options = optionsWith({ publishTimeoutMs: 200 });
    const outcomes = await new OutboxPublisher(
      options,
      fakeTransport(() => after(20, ack)),
    ).publishAll(claimed(100, 1));
    const acknowledged = outcomes.filter((o) => o.status === 'acknowledged').length;
    expect(acknowledged).toBeGreaterThan(0);
    expect(acknowledged).toBeLessThan(20);
    expect(outcomes.slice(acknowledged).every((o) => o.status === 'blocked')).toBe(true);
  });

  it('hands the transport a signal that aborts at twice the publish timeout', async () => {
    let seen: AbortSignal | undefined;
    const transport: OutboxTransport = {
      name: 'hanging',
      publish: (messages, signal) => {
        seen = signal;
        return new Promise((resolve) =>
          signal.addEventListener('abort', () =>
            resolve(messages.map(() => ({ status: 'failed', failure: 'unavailable', error: 'x' }))),
          ),
        );
      },
      checkHealth: () => Promise.resolve({}),
    };
    const options = optionsWith({ publishTimeoutMs: 50 });
    const [outcome] = await new OutboxPublisher(options, transport).publishAll(claimed(1));
    expect(seen?.aborted).toBe(true);
    expect(outcome).toMatchObject({ status: 'failed', failure: 'unavailable' });
  });

  it('publishes in turn one event at a time, in claim order, and blocks the rest after a failure', async () => {
    let inFlight = 0;
    let peak = 0;
    const sent: number[] = [];
    const transport = fakeTransport((m) => {
      if (payloadOf(m) === 3) {
        return Promise.resolve({ status: 'failed', failure: 'connection-lost', error: 'lost' });
      }
      sent.push(payloadOf(m));
      peak = Math.max(peak, ++inFlight);
      return after(1, () => {
        inFlight--;
        return ack();
      });
    });
    const outcomes = await new OutboxPublisher(optionsWith(), transport).publishInTurn(claimed(6));
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

  it('sends no further wave once a whole wave failed on the broker side, and blocks the rest', async () => {
    let sent = 0;
    const transport = fakeTransport(() => {
      sent++;
      return Promise.resolve({ status: 'failed', failure: 'unavailable', error: 'timeout' });
    });
    const outcomes = await new OutboxPublisher(
      optionsWith({ maxInFlight: 8 }),
      transport,
    ).publishAll(claimed(100));
    expect(sent).toBe(8);
    expect(outcomes.filter((o) => o.status === 'failed')).toHaveLength(8);
    expect(outcomes.filter((o) => o.status === 'blocked')).toHaveLength(92);
  });
});
