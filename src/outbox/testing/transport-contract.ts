import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { OutboxMessage } from '../message/outbox-message.js';
import type { OutboxTransport, PublishResult } from '../transport/outbox-transport.js';

// The test framework's globals (Jest, Vitest and node:test's compatible runners have them);
// declared here so the library does not depend on any framework's types.
declare function describe(name: string, body: () => void): void;
declare function it(name: string, body: () => Promise<void>, timeoutMs?: number): void;
declare function beforeAll(body: () => Promise<void>, timeoutMs?: number): void;
declare function afterAll(body: () => Promise<void>, timeoutMs?: number): void;

/** What the contract suite needs from the adapter under test, against a real broker. */
export interface TransportContractHarness {
  /** A transport on a live broker, publishing to a destination of this run's own. */
  readonly transport: OutboxTransport;
  /** The event ids the broker stored so far at that destination, in any order. */
  storedEventIds(): Promise<string[]>;
  /** A transport of the same adapter whose broker cannot be reached. */
  readonly unreachable: OutboxTransport;
  /** A message this broker can never take (over its size limit, say), if there is one. */
  readonly unpublishable?: OutboxMessage;
  /** Strings, such as passwords, that must never appear in names or health output. */
  readonly secrets?: readonly string[];
  /** Releases what the harness created. */
  close(): Promise<void>;
}

/** An outbox message of the type the harness's destination must capture: `contract.tested`. */
export function contractMessage(n: number, aggregateId = `a-${n}`): OutboxMessage {
  return {
    envelope: {
      event_id: randomUUID(),
      event_type: 'contract.tested',
      event_version: '1',
      aggregate_type: 'contract',
      aggregate_id: aggregateId,
      occurred_at: new Date().toISOString(),
      payload: { n },
    },
    headers: { 'x-contract': String(n) },
  };
}

const TIMEOUT_MS = 60_000;

async function settlesWithin<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The transport contract as a test suite, in the manner of store contract suites: run it
 * against an adapter and a real broker, and the relay's guarantees hold for that adapter.
 * ```ts
 * describeTransportContract('my broker', async () => ({ transport, unreachable, storedEventIds, close }));
 * ```
 * @publicApi
 */
export function describeTransportContract(
  name: string,
  createHarness: () => Promise<TransportContractHarness>,
): void {
  describe(`${name} meets the outbox transport contract`, () => {
    let harness: TransportContractHarness;
    const publish = (transport: OutboxTransport, messages: OutboxMessage[], signal?: AbortSignal) =>
      settlesWithin(
        TIMEOUT_MS,
        transport.publish(messages, signal ?? new AbortController().signal),
        'publish()',
      );

    beforeAll(async () => {
      harness = await createHarness();
    }, TIMEOUT_MS);

    afterAll(async () => {
      await harness?.close();
    }, TIMEOUT_MS);

    it(
      'acknowledges every message of a batch, in order, only once the broker stored it',
      async () => {
        const messages = Array.from({ length: 20 }, (_, n) => contractMessage(n));
        const results = await publish(harness.transport, messages);
        assert.equal(results.length, messages.length);
        for (const result of results) assert.equal(result.status, 'acknowledged');
        const stored = new Set(await harness.storedEventIds());
        for (const m of messages)
          assert.ok(stored.has(m.envelope.event_id), 'stored by the broker');
      },
      TIMEOUT_MS,
    );

    it(
      'resolves an empty batch with no results',
      async () => {
        assert.deepEqual(await publish(harness.transport, []), []);
      },
      TIMEOUT_MS,
    );

    it(
      'settles every result at once when the signal is already aborted, and never rejects',
      async () => {
        const controller = new AbortController();
        controller.abort();
        const results = await settlesWithin(
          5_000,
          harness.transport.publish([contractMessage(1), contractMessage(2)], controller.signal),
          'an aborted publish()',
        );
        assert.equal(results.length, 2);
        for (const r of results) {
          assert.ok(
            r.status === 'acknowledged' || r.failure === 'unavailable',
            `acknowledged or unavailable, not ${JSON.stringify(r)}`,
          );
        }
      },
      TIMEOUT_MS,
    );

    it(
      'calls an unreachable broker unavailable, never the events’ fault',
      async () => {
        const results: PublishResult[] = await publish(harness.unreachable, [contractMessage(1)]);
        assert.equal(results.length, 1);
        const [result] = results;
        assert.equal(result.status, 'failed');
        assert.ok(
          result.status === 'failed' &&
            (result.failure === 'unavailable' || result.failure === 'connection-lost'),
          `unavailable, not ${JSON.stringify(result)}`,
        );
        await assert.rejects(
          settlesWithin(TIMEOUT_MS, harness.unreachable.checkHealth(), 'checkHealth()'),
        );
      },
      TIMEOUT_MS,
    );

    it(
      'calls a message the broker can never take "never", and still takes the others',
      async () => {
        if (!harness.unpublishable) return;
        const ok = contractMessage(7);
        const [bad, good] = await publish(harness.transport, [harness.unpublishable, ok]);
        assert.equal(bad.status === 'failed' && bad.failure, 'never');
        assert.equal(good.status, 'acknowledged');
      },
      TIMEOUT_MS,
    );

    it(
      'reports health with details, and no secret in its name or details',
      async () => {
        const details = await settlesWithin(
          TIMEOUT_MS,
          harness.transport.checkHealth(),
          'checkHealth()',
        );
        assert.equal(typeof details, 'object');
        const shown = JSON.stringify({ name: harness.transport.name, details });
        for (const secret of harness.secrets ?? [])
          assert.ok(!shown.includes(secret), 'no secret shown');
      },
      TIMEOUT_MS,
    );
  });
}
