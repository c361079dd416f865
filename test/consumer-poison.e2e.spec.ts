import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { Controller, type INestApplication } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import type { Channel, ChannelModel } from 'amqplib';
import { connect as amqpConnect } from 'amqplib';
import { Registry } from 'prom-client';
import { ConsumerMetrics } from '../src/outbox/metrics/index.js';
import { ServerJetStream } from '../src/outbox/nats/index.js';
import { AckingServerRMQ } from '../src/outbox/rabbitmq/index.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { eventually } from './support/eventually.js';
import { TEST_RABBITMQ_URL, TestExchange } from './support/rabbitmq.js';
import { TEST_NATS_URL, uniqueName } from './support/test-env.js';

interface Work {
  readonly id: string;
  readonly poison?: boolean;
}

/** Counts every call per id; a poison event always fails. */
const calls = new Map<string, number>();

function handle({ id, poison }: Work): void {
  calls.set(id, (calls.get(id) ?? 0) + 1);
  if (poison) throw new Error(`poison ${id}`);
}

@Controller()
class PoisonableHandler {
  @EventPattern('work.requested')
  handle(@Payload() envelope: { payload: Work }) {
    handle(envelope.payload);
  }
}

/** The same on a wildcard pattern: metrics label the pattern, not each event type. */
@Controller()
class WildcardPoisonableHandler {
  @EventPattern('work.*')
  handle(@Payload() envelope: { payload: Work }) {
    handle(envelope.payload);
  }
}

const envelopeOf = (work: Work) =>
  JSON.stringify({
    event_id: work.id,
    event_type: 'work.requested',
    event_version: '1',
    aggregate_type: 'work',
    aggregate_id: work.id,
    occurred_at: new Date().toISOString(),
    payload: work,
  });

/**
 * One counter's sample as Prometheus scrapes it, or undefined while the series does not exist.
 */
async function sampleOf(
  registry: Registry,
  name: string,
  transport: string,
  pattern = 'work.requested',
): Promise<number | undefined> {
  const text = await registry.getSingleMetricAsString(name);
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`${name}{transport="${transport}",pattern="${pattern}"} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

/**
 * The consumer counters after one poison message and one valid message, once both are done:
 * the poison message dead-lettered once after `maxDeliveries - 1` redeliveries, the valid one
 * counted nowhere. The series exist at 0 from the start, before any message.
 */
async function expectOneDeadLetter(
  registry: Registry,
  transport: string,
  maxDeliveries: number,
  done: () => Promise<boolean>,
): Promise<void> {
  const sample = (name: string) => sampleOf(registry, name, transport, 'work.*');
  const deadLetters = () => sample('outbox_consumer_dead_letters_total');
  const redeliveries = () => sample('outbox_consumer_redeliveries_total');
  await eventually(
    async () => (await deadLetters()) === 1 && calls.get('valid') === 1 && (await done()),
    {
      what: 'the poison message counted as a dead letter, and the valid one processed',
    },
  );
  expect(calls.get('valid')).toBe(1);
  expect(calls.get('poison')).toBe(maxDeliveries);
  expect(await deadLetters()).toBe(1);
  expect(await redeliveries()).toBe(maxDeliveries - 1);
}

/**
 * Poison messages on the consumers: each gets `maxDeliveries` deliveries, then goes to a
 * dead letter, so they cannot fill the consumer's window and stop every other event.
 */
describe('consumers and poison messages', () => {
  const logger = new CapturingLogger();
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
    calls.clear();
  });

  async function startConsumer(
    strategy: ServerJetStream | AckingServerRMQ,
    handler: new () => object = PoisonableHandler,
  ) {
    const moduleRef = await Test.createTestingModule({
      controllers: [handler],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    app.connectMicroservice({ strategy }, { inheritAppConfig: true });
    await app.init();
    await app.startAllMicroservices();
  }

  describe('on JetStream (ServerJetStream)', () => {
    const stream = uniqueName('POISON').toUpperCase();
    const deadLetters = `${stream}_DLQ`;
    const prefix = uniqueName('poison').replace(/_/g, '-');
    const deadLetterSubject = `${prefix}-dlq.work`;
    let nc: NatsConnection;
    let jsm: JetStreamManager;

    beforeAll(async () => {
      nc = await connect({ servers: TEST_NATS_URL });
      jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: stream, subjects: [`${prefix}.>`] });
      await jsm.streams.add({ name: deadLetters, subjects: [deadLetterSubject] });
    });

    afterAll(async () => {
      await jsm.streams.delete(stream).catch(() => undefined);
      await jsm.streams.delete(deadLetters).catch(() => undefined);
      await nc.close();
    });

    it('1,000 poison messages (as many as max_ack_pending) are dead-lettered, and the valid event behind them is processed', async () => {
      const js = jetstream(nc);
      const poison = Array.from({ length: 1_000 }, (_, n) => ({ id: `p-${n}`, poison: true }));
      await Promise.all(poison.map((w) => js.publish(`${prefix}.work.requested`, envelopeOf(w))));
      // Not JSON: it can never succeed, and goes at its first delivery.
      const garbled = await js.publish(`${prefix}.work.requested`, 'not json', {
        headers: headers(),
      });
      await js.publish(`${prefix}.work.requested`, envelopeOf({ id: 'valid' }));

      const registry = new Registry();
      const server = new ServerJetStream({
        servers: [TEST_NATS_URL],
        stream,
        subjectPrefix: prefix,
        durable: 'poison',
        retryDelayMs: 10,
        maxDeliveries: 2,
        maxMessages: 100,
        deadLetterSubject,
        instrument: new ConsumerMetrics({ registry }),
      });
      await startConsumer(server);

      await eventually(() => calls.get('valid') === 1, {
        what: 'the valid event behind the poison',
        timeoutMs: 60_000,
      });
      await eventually(async () => (await jsm.streams.info(deadLetters)).state.messages === 1_001, {
        what: 'every poison message in the dead-letter stream',
        timeoutMs: 60_000,
      });
      expect(server.deadLetteredTotal).toBe(1_001);
      expect(await sampleOf(registry, 'outbox_consumer_dead_letters_total', 'nats-jetstream')).toBe(
        1_001,
      );
      // Two deliveries each, never more.
      expect(Math.max(...poison.map((w) => calls.get(w.id) ?? 0))).toBe(2);
      const [first] = await jsm.streams.getMessage(deadLetters, { seq: 1 }).then((m) => [m]);
      expect(first?.header.get('Outbox-Dead-Letter-Stream')).toBe(stream);
      const reasons = logger
        .errors('ServerJetStream')
        .filter((m) => m.startsWith(`Dead-lettered stream sequence ${garbled.seq} `));
      expect(reasons).toEqual([expect.stringMatching(/the body is not JSON/)]);
    });

    it('counts a poison message in outbox_consumer_dead_letters_total, and not the valid one', async () => {
      // A subject of its own in the stream: the test above leaves its messages there.
      const subjectPrefix = `${prefix}.counted`;
      const registry = new Registry();
      const server = new ServerJetStream({
        servers: [TEST_NATS_URL],
        stream,
        subjectPrefix,
        durable: 'counted',
        retryDelayMs: 10,
        maxDeliveries: 3,
        instrument: new ConsumerMetrics({ registry }),
      });
      await startConsumer(server, WildcardPoisonableHandler);
      expect(
        await sampleOf(registry, 'outbox_consumer_dead_letters_total', 'nats-jetstream', 'work.*'),
      ).toBe(0);
      const js = jetstream(nc);
      await js.publish(
        `${subjectPrefix}.work.requested`,
        envelopeOf({ id: 'poison', poison: true }),
      );
      await js.publish(`${subjectPrefix}.work.requested`, envelopeOf({ id: 'valid' }));
      await expectOneDeadLetter(registry, 'nats-jetstream', 3, async () => {
        const info = await jsm.consumers.info(stream, 'counted_work_any');
        return info.num_pending === 0 && info.num_ack_pending === 0;
      });
    });
  });

  describe('on RabbitMQ (AckingServerRMQ)', () => {
    const exchange = new TestExchange();
    const queue = exchange.track(uniqueName('poison.q'));
    const deadLetterExchange = exchange.track(uniqueName('poison.dlx'));
    // The counting test's own: the other test asserts what is in its queues.
    const countedQueue = exchange.track(uniqueName('counted.q'));
    const countedDeadLetters = exchange.track(uniqueName('counted.dlx'));
    let connection: ChannelModel;
    let channel: Channel;

    beforeAll(async () => {
      await exchange.connect();
      connection = await amqpConnect(TEST_RABBITMQ_URL);
      channel = await connection.createChannel();
    });

    afterAll(async () => {
      await channel.deleteExchange(deadLetterExchange).catch(() => undefined);
      await channel.deleteExchange(countedDeadLetters).catch(() => undefined);
      await connection.close();
      await exchange.destroy();
    });

    it('10 poison messages (the prefetch) are dead-lettered to the exchange, and the valid event behind them is processed', async () => {
      const server = new AckingServerRMQ({
        urls: [TEST_RABBITMQ_URL],
        exchange: exchange.exchange,
        queue,
        prefetchCount: 10,
        retryDelayMs: 10,
        maxDeliveries: 3,
        deadLetterExchange,
      });
      await startConsumer(server);
      const poison = Array.from({ length: 10 }, (_, n) => ({ id: `p-${n}`, poison: true }));
      for (const work of [...poison, { id: 'valid' }]) {
        channel.publish(exchange.exchange, 'work.requested', Buffer.from(envelopeOf(work)), {
          messageId: work.id,
          type: 'work.requested',
          contentType: 'application/json',
        });
      }
      await eventually(() => calls.get('valid') === 1, { what: 'the valid event' });
      await eventually(async () => (await exchange.ready(deadLetterExchange)) === 10, {
        what: 'the poison messages in the dead-letter queue',
      });
      expect(server.deadLetteredTotal).toBe(10);
      expect(poison.map((w) => calls.get(w.id))).toEqual(poison.map(() => 3));
      expect(await exchange.ready(queue)).toBe(0);
    });

    it('counts a poison message in outbox_consumer_dead_letters_total, and not the valid one', async () => {
      const registry = new Registry();
      const server = new AckingServerRMQ({
        urls: [TEST_RABBITMQ_URL],
        exchange: exchange.exchange,
        queue: countedQueue,
        retryDelayMs: 10,
        maxDeliveries: 3,
        deadLetterExchange: countedDeadLetters,
        instrument: new ConsumerMetrics({ registry }),
      });
      await startConsumer(server, WildcardPoisonableHandler);
      expect(
        await sampleOf(registry, 'outbox_consumer_dead_letters_total', 'rabbitmq', 'work.*'),
      ).toBe(0);
      for (const work of [{ id: 'poison', poison: true }, { id: 'valid' }]) {
        channel.publish(exchange.exchange, 'work.requested', Buffer.from(envelopeOf(work)), {
          messageId: work.id,
          type: 'work.requested',
          contentType: 'application/json',
        });
      }
      await expectOneDeadLetter(
        registry,
        'rabbitmq',
        3,
        async () => (await exchange.ready(countedDeadLetters)) === 1,
      );
      expect(await exchange.ready(countedQueue)).toBe(0);
    });
  });
});
