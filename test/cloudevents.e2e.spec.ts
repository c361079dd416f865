import { defineDomainEvent, type OutboxMessageFormat } from '../src/outbox/index.js';
import { eventually } from './support/eventually.js';
import { TestStream, type StoredMessage } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { TEST_RABBITMQ_URL, TestExchange, type ReceivedMessage } from './support/rabbitmq.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { PulseCreated } from './support/events.js';
import { outboxOn } from './support/outbox-options.js';

const SOURCE = 'https://edupulse.example.com/outbox-test';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
/** A payload that is not an object: binary mode must send it as it is. */
const GradeGiven = defineDomainEvent<number>({
  type: 'grade.given',
  version: '2',
  aggregateType: 'grade',
});

/** Two events: an aggregate id that needs percent-encoding in a NATS header, and a bare number. */
function events() {
  const pulse = PulseCreated.create(
    'pulse 7/\u00e9',
    { title: 'Photosynthesis' },
    { headers: { traceparent: TRACEPARENT } },
  );
  return { pulse, grade: GradeGiven.create('g-1', 87) };
}

/** The whole CloudEvent a structured-mode body must hold for `pulse`. */
function structuredPulse(pulse: ReturnType<typeof events>['pulse']) {
  return {
    specversion: '1.0',
    id: pulse.eventId,
    source: SOURCE,
    type: 'learning_pulse.created',
    subject: 'pulse 7/\u00e9',
    time: pulse.occurredAt.toISOString(),
    datacontenttype: 'application/json',
    eventversion: '1.0',
    aggregatetype: 'learning_pulse',
    traceparent: TRACEPARENT,
    data: { title: 'Photosynthesis' },
  };
}

describe('CloudEvents message formats, relayed to the real brokers', () => {
  const tables: TestOutboxTable[] = [];
  const streams: TestStream[] = [];
  const exchanges: TestExchange[] = [];
  const apps: RelayApp[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await Promise.all(streams.map((s) => s.destroy()));
    await Promise.all(exchanges.map((e) => e.destroy()));
    await Promise.all(tables.map((t) => t.drop()));
  });

  async function table() {
    const created = await new TestOutboxTable().create();
    tables.push(created);
    return created;
  }

  describe('on NATS JetStream', () => {
    async function relay(messageFormat: OutboxMessageFormat) {
      const outbox = await table();
      const stream = await new TestStream().connect();
      streams.push(stream);
      const app = await startRelayApp({
        ...outboxOn(outbox, stream),
        messageFormat,
        cloudEventsSource: SOURCE,
      });
      apps.push(app);
      const { pulse, grade } = events();
      await outbox.dataSource.transaction((m) => app.repository.add(m, [pulse, grade]));
      const stored = await eventually(
        async () => {
          const messages = await stream.messages();
          return messages.length === 2 && messages;
        },
        { what: 'both events in the stream' },
      );
      const byId = (id: string) => stored.find((m) => m.msgId === id) as StoredMessage;
      return { pulse, grade, stored: { pulse: byId(pulse.eventId), grade: byId(grade.eventId) } };
    }

    it('binary mode: ce-* headers (ce-id = event id, ce-specversion 1.0, ...), the payload as body', async () => {
      const { pulse, grade, stored } = await relay('cloudevents-binary');

      expect(stored.pulse.subject).toMatch(/\.learning_pulse\.created$/);
      expect(stored.pulse.headers).toEqual({
        'Nats-Msg-Id': pulse.eventId,
        'ce-id': pulse.eventId,
        'ce-type': 'learning_pulse.created',
        'ce-source': SOURCE,
        'ce-specversion': '1.0',
        'ce-subject': 'pulse%207/%C3%A9',
        'ce-time': pulse.occurredAt.toISOString(),
        'ce-datacontenttype': 'application/json',
        'ce-eventversion': '1.0',
        'ce-aggregatetype': 'learning_pulse',
        'ce-traceparent': TRACEPARENT,
        traceparent: TRACEPARENT,
        'Content-Type': 'application/json',
      });
      expect(stored.pulse.body).toEqual({ title: 'Photosynthesis' });

      expect(stored.grade.headers).toMatchObject({
        'Nats-Msg-Id': grade.eventId,
        'ce-id': grade.eventId,
        'ce-type': 'grade.given',
        'ce-eventversion': '2',
      });
      expect(stored.grade.headers).not.toHaveProperty('ce-traceparent');
      expect(stored.grade.body).toBe(87);
    });

    it('structured mode: the whole CloudEvent as application/cloudevents+json, Nats-Msg-Id kept', async () => {
      const { pulse, grade, stored } = await relay('cloudevents-structured');

      expect(stored.pulse.headers).toEqual({
        'Nats-Msg-Id': pulse.eventId,
        traceparent: TRACEPARENT,
        'Content-Type': 'application/cloudevents+json; charset=UTF-8',
      });
      expect(stored.pulse.body).toEqual(structuredPulse(pulse));
      expect(stored.grade.body).toMatchObject({ id: grade.eventId, type: 'grade.given', data: 87 });
    });
  });

  describe('on RabbitMQ', () => {
    async function relay(messageFormat: OutboxMessageFormat) {
      const outbox = await table();
      const exchange = await new TestExchange().connect();
      exchanges.push(exchange);
      // Bound before anything is written, so nothing goes to the unroutable queue.
      const queue = await exchange.bindQueue('#');
      const app = await startRelayApp({
        transport: 'rabbitmq',
        rabbitmqUrl: TEST_RABBITMQ_URL,
        table: outbox.table,
        exchange: exchange.exchange,
        messageFormat,
        cloudEventsSource: SOURCE,
      });
      apps.push(app);
      const { pulse, grade } = events();
      await outbox.dataSource.transaction((m) => app.repository.add(m, [pulse, grade]));
      const received: ReceivedMessage[] = [];
      await eventually(
        async () => {
          received.push(...(await exchange.take(queue)));
          return received.length >= 2;
        },
        { what: `both events on ${queue}` },
      );
      expect(received).toHaveLength(2);
      const byId = (id: string) => received.find((m) => m.messageId === id) as ReceivedMessage;
      return { pulse, grade, received: { pulse: byId(pulse.eventId), grade: byId(grade.eventId) } };
    }

    it('binary mode: cloudEvents_* headers, datacontenttype as contentType, the payload as body', async () => {
      const { pulse, grade, received } = await relay('cloudevents-binary');

      expect(received.pulse).toMatchObject({
        routingKey: 'learning_pulse.created',
        messageId: pulse.eventId,
        deliveryMode: 2,
        contentType: 'application/json',
        body: { title: 'Photosynthesis' },
      });
      expect(received.pulse.headers).toEqual({
        cloudEvents_id: pulse.eventId,
        cloudEvents_type: 'learning_pulse.created',
        cloudEvents_source: SOURCE,
        cloudEvents_specversion: '1.0',
        cloudEvents_subject: 'pulse 7/\u00e9',
        cloudEvents_time: pulse.occurredAt.toISOString(),
        cloudEvents_eventversion: '1.0',
        cloudEvents_aggregatetype: 'learning_pulse',
        cloudEvents_traceparent: TRACEPARENT,
        traceparent: TRACEPARENT,
      });
      expect(received.grade).toMatchObject({
        messageId: grade.eventId,
        headers: { cloudEvents_id: grade.eventId, cloudEvents_type: 'grade.given' },
        body: 87,
      });
    });

    it('structured mode: the whole CloudEvent as application/cloudevents+json, messageId kept', async () => {
      const { pulse, grade, received } = await relay('cloudevents-structured');

      expect(received.pulse).toMatchObject({
        messageId: pulse.eventId,
        deliveryMode: 2,
        contentType: 'application/cloudevents+json; charset=UTF-8',
        headers: { traceparent: TRACEPARENT },
      });
      expect(Object.keys(received.pulse.headers)).toEqual(['traceparent']);
      expect(received.pulse.body).toEqual(structuredPulse(pulse));
      expect(received.grade.body).toMatchObject({ id: grade.eventId, data: 87 });
    });
  });
});
