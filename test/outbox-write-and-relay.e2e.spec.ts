import {
  defineDomainEvent,
  OutboxTransactionRequiredError,
  PayloadNotSerializableError,
  PayloadTooLargeError,
  InvalidDomainEventError,
  OutboxTableMissingError,
} from '../src/outbox/index.js';
import { jetstream } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { eventually } from './support/eventually.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { PulseCreated } from './support/events.js';
import { outboxOn } from './support/outbox-options.js';

describe('writing in the caller transaction and relaying to JetStream', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();
  let relayApp: RelayApp;

  beforeAll(async () => {
    await table.create();
    // Created here, not by the relay: a test may publish to it before the relay first runs.
    await (await stream.connect()).create();
    relayApp = await startRelayApp({
      ...outboxOn(table, stream),
      maxPayloadBytes: 10_000,
    });
  });

  afterAll(async () => {
    await relayApp?.app.close();
    await stream.destroy();
    await table.drop();
  });

  it('publishes a committed event once, with Nats-Msg-Id = event_id and the envelope as body', async () => {
    const event = PulseCreated.create(
      'pulse-1',
      { title: 'Photosynthesis' },
      {
        headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
      },
    );
    await table.dataSource.transaction((manager) => relayApp.repository.add(manager, event));

    // Its own message, whatever other tests of this file published before it.
    const message = await eventually(
      async () => (await stream.messages()).find((m) => m.msgId === event.eventId),
      { what: 'the event in the stream' },
    );

    expect(message.subject).toBe(`${stream.subjectPrefix}.learning_pulse.created`);
    expect(message.msgId).toBe(event.eventId);
    expect(message.headers['Event-Type']).toBe('learning_pulse.created');
    expect(message.headers.traceparent).toBe(event.headers.traceparent);
    expect(message.body).toEqual({
      event_id: event.eventId,
      event_type: 'learning_pulse.created',
      event_version: '1.0',
      aggregate_type: 'learning_pulse',
      aggregate_id: 'pulse-1',
      occurred_at: event.occurredAt.toISOString(),
      payload: { title: 'Photosynthesis' },
    });
    await eventually(async () => (await table.publishedEventIds()).includes(event.eventId), {
      what: 'row marked',
    });
    const copies = (await stream.messages()).filter((m) => m.msgId === event.eventId);
    expect(copies).toHaveLength(1);
  });

  it('never writes nor publishes an event whose transaction rolled back', async () => {
    const rolledBack = PulseCreated.create('pulse-rolled-back', { title: 'never' });
    const committed = PulseCreated.create('pulse-2', { title: 'after' });
    await expect(
      table.dataSource.transaction(async (manager) => {
        await relayApp.repository.add(manager, rolledBack);
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    // A later committed event proves the relay ran past the point where the other would be.
    await table.dataSource.transaction((manager) => relayApp.repository.add(manager, committed));

    const messages = await eventually(
      async () => {
        const all = await stream.messages();
        return all.some((m) => m.msgId === committed.eventId) && all;
      },
      { what: 'the committed event' },
    );
    expect(messages.map((m) => m.msgId)).not.toContain(rolledBack.eventId);
    const rows = await table.dataSource.query<unknown[]>(
      `SELECT 1 FROM "${table.table}" WHERE event_id = $1`,
      [rolledBack.eventId],
    );
    expect(rows).toHaveLength(0);
  });

  it('inserts many events in one call and relays each of them', async () => {
    const events = Array.from({ length: 50 }, (_, i) =>
      PulseCreated.create(`bulk-${i}`, { title: `pulse ${i}` }),
    );
    await table.dataSource.transaction((manager) => relayApp.repository.add(manager, events));
    const ids = new Set(events.map((e) => e.eventId));
    await eventually(
      async () => {
        const stored = (await stream.messages()).filter((m) => ids.has(m.msgId ?? ''));
        return stored.length === events.length;
      },
      { what: '50 events in the stream' },
    );
  });

  it('refuses a write outside a transaction, and bad events, before anything is stored', async () => {
    const before = (await table.counts()).total;
    const ok = PulseCreated.create('p', { title: 'x' });
    await expect(relayApp.repository.add(table.dataSource.manager, ok)).rejects.toBeInstanceOf(
      OutboxTransactionRequiredError,
    );

    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const cases: [unknown, new (...args: never[]) => Error][] = [
      [PulseCreated.create('p', { title: 1n as unknown as string }), PayloadNotSerializableError],
      [PulseCreated.create('p', circular), PayloadNotSerializableError],
      [PulseCreated.create('p', { title: 'x'.repeat(20_000) }), PayloadTooLargeError],
      [PulseCreated.create('', { title: 'no aggregate' }), InvalidDomainEventError],
      // Would overflow nats-server's control line, or an AMQP routing key.
      [{ ...ok, eventType: `learning_pulse.${'x'.repeat(241)}` }, InvalidDomainEventError],
      // A regex test would coerce these to the valid-looking "null" and "undefined".
      [{ ...ok, eventType: null }, InvalidDomainEventError],
      [{ ...ok, eventType: undefined }, InvalidDomainEventError],
      // Hostile input a regex or the database would have let through as an untyped error.
      [{ ...ok, eventVersion: 'v1; DROP' }, InvalidDomainEventError],
      [{ ...ok, aggregateType: 'Not A Type' }, InvalidDomainEventError],
      [{ ...ok, eventId: 'not-a-uuid' }, InvalidDomainEventError],
      [{ ...ok, aggregateId: 'a\u0000b' }, InvalidDomainEventError],
      [{ ...ok, aggregateId: 'x'.repeat(513) }, InvalidDomainEventError],
      [{ ...ok, occurredAt: new Date('not a date') }, InvalidDomainEventError],
      [null, InvalidDomainEventError],
      [ok, InvalidDomainEventError], // the same id twice in one write
      [PulseCreated.create('p', { title: 'a\u0000b' }), PayloadNotSerializableError],
      [PulseCreated.create('p', { title: 'lone \ud800 surrogate' }), PayloadNotSerializableError],
      // The headers travel with the payload: both count against the limit (10,000 bytes here).
      [
        PulseCreated.create(
          'p',
          { title: 'x'.repeat(6_000) },
          { headers: { 'x-big': 'y'.repeat(6_000) } },
        ),
        PayloadTooLargeError,
      ],
      [
        PulseCreated.create('p', { title: 'x' }, { headers: { 'Nats-Msg-Id': 'spoof' } }),
        InvalidDomainEventError,
      ],
      [
        PulseCreated.create('p', { title: 'x' }, { headers: { traceparent: 'a\r\nb' } }),
        InvalidDomainEventError,
      ],
    ];
    for (const [event, errorClass] of cases) {
      await expect(
        table.dataSource.transaction((manager) =>
          relayApp.repository.add(manager, [ok, event as typeof ok]),
        ),
      ).rejects.toBeInstanceOf(errorClass);
    }
    expect((await table.counts()).total).toBe(before);
  });

  it('stores text that merely spells \\u0000, and names an id that is already recorded', async () => {
    // A backslash, then u0000: an answer about C strings, not a NUL character.
    const literal = PulseCreated.create('p', { text: 'terminate with \\u0000 in C' });
    await table.dataSource.transaction((m) => relayApp.repository.add(m, literal));
    const [row] = await table.dataSource.query<{ text: string }[]>(
      `SELECT payload->>'text' AS text FROM "${table.table}" WHERE event_id = $1`,
      [literal.eventId],
    );
    expect(row.text).toBe('terminate with \\u0000 in C');

    const again = table.dataSource.transaction((m) => relayApp.repository.add(m, literal));
    await expect(again).rejects.toBeInstanceOf(InvalidDomainEventError);
    await expect(again).rejects.toThrow(new RegExp(`${literal.eventId} is already recorded`));
  });

  it('counts an event the broker already had as a duplicate, marks it, and stores it once', async () => {
    const event = PulseCreated.create('dup', { title: 'stored before' });
    // As if a relay had published it and crashed before its mark committed.
    const h = headers();
    h.set('Nats-Msg-Id', event.eventId);
    await jetstream(stream.connection()).publish(
      `${stream.subjectPrefix}.${event.eventType}`,
      JSON.stringify({ event_id: event.eventId }),
      { headers: h },
    );
    const before = relayApp.relay.getStatus().duplicatesTotal;
    await table.dataSource.transaction((m) => relayApp.repository.add(m, event));
    await eventually(() => relayApp.relay.getStatus().duplicatesTotal === before + 1, {
      what: 'the duplicate counted',
    });
    expect(await table.publishedEventIds()).toContain(event.eventId);
    const copies = (await stream.messages()).filter((m) => m.msgId === event.eventId);
    expect(copies).toHaveLength(1);
  });

  it('names the migration to run when the table is missing, and stores nothing', async () => {
    const missing = await startRelayApp({ table: 'no_such_outbox_table', relayEnabled: false });
    try {
      const error = await table.dataSource
        .transaction((m) => missing.repository.add(m, PulseCreated.create('p', { title: 'x' })))
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OutboxTableMissingError);
      expect((error as Error).message).toMatch(/"no_such_outbox_table".*CreateEventOutbox/);
    } finally {
      await missing.app.close();
    }
  });

  it("names the migration to run when the relay's claim finds no table", async () => {
    const missing = await startRelayApp({
      table: 'no_such_outbox_table',
      relayCron: '0 0 0 1 1 *',
      relayWakeup: 'off',
    });
    try {
      await missing.relay.drain();
      expect(missing.relay.getStatus().lastError).toMatch(
        /"no_such_outbox_table".*CreateEventOutbox/,
      );
    } finally {
      await missing.app.close();
    }
  });

  it('names the problem in the error message', async () => {
    const big = PulseCreated.create('p', { title: 'x'.repeat(20_000) });
    await expect(
      table.dataSource.transaction((m) => relayApp.repository.add(m, big)),
    ).rejects.toThrow(/learning_pulse\.created.*over the limit of 10000 bytes/);
    expect(() =>
      defineDomainEvent({ type: 'Bad Type', version: '1.0', aggregateType: 'x' }),
    ).toThrow(/Invalid domain event "Bad Type"/);
  });
});
