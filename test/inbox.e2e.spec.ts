import { randomUUID } from 'node:crypto';
import {
  jetstream,
  jetstreamManager,
  type JetStreamManager,
  type PubAck,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { Controller, type INestApplication } from '@nestjs/common';
import { ClientRMQ, Ctx, EventPattern, Payload, RmqContext } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { lastValueFrom } from 'rxjs';
import type { EntityManager } from 'typeorm';
import { InboxRepository } from '../src/outbox/inbox/inbox.repository.js';
import type { EventEnvelope, OutboxMessage } from '../src/outbox/index.js';
import {
  eventIdOf,
  IdempotentConsumerService,
  InboxTableMissingError,
  InvalidInboxKeyError,
  OutboxInboxModule,
} from '../src/outbox/inbox/index.js';
import { InboxRetentionScheduler } from '../src/outbox/inbox/inbox-retention.scheduler.js';
import { ClientJetStream, JetStreamContext, ServerJetStream } from '../src/outbox/nats/index.js';
import { NatsEnvelopeSerializer } from '../src/outbox/nats/nats-envelope.serializer.js';
import { AckingServerRMQ } from '../src/outbox/rabbitmq/index.js';
import { RmqEnvelopeSerializer } from '../src/outbox/rabbitmq/rmq-envelope.serializer.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { eventually } from './support/eventually.js';
import { TestInboxTable } from './support/inbox-table.js';
import { TEST_RABBITMQ_URL, TestExchange } from './support/rabbitmq.js';
import { TEST_DATABASE_URL, TEST_NATS_URL, uniqueName } from './support/test-env.js';

type CounterPayload = { n: number; failFirst?: boolean };

/** One delivery the consumer under test saw, and what the inbox made of it. */
interface Delivery {
  readonly transport: 'nats' | 'rabbitmq';
  readonly eventId: string;
  /** JetStream stream sequence, or AMQP delivery tag. */
  readonly sequence: number;
  readonly redelivered: boolean;
  outcome: 'pending' | 'processed' | 'skipped' | 'failed';
}

const inbox = new TestInboxTable();
const workTable = uniqueName('inbox_work');
const deliveries: Delivery[] = [];
const failedOnce = new Set<string>();

/** Each event's work inserts a row; the test counts the rows to see how often it ran. */
async function doWork(manager: EntityManager, eventId: string, n: number): Promise<void> {
  await manager.query(`INSERT INTO "${workTable}" (event_id, n) VALUES ($1, $2)`, [eventId, n]);
}

@Controller()
class SubmissionCounter {
  constructor(private readonly consumer: IdempotentConsumerService) {}

  // <string> picks the untyped overload: Nest 12's typed one rejects a typed @Ctx() parameter.
  @EventPattern<string>('submission.received')
  async onSubmission(
    @Payload() event: EventEnvelope<CounterPayload>,
    @Ctx() context: JetStreamContext | RmqContext,
  ): Promise<void> {
    const eventId = eventIdOf(event, context);
    const delivery: Delivery =
      context instanceof JetStreamContext
        ? {
            transport: 'nats',
            eventId,
            sequence: context.getMessage().seq,
            redelivered: context.getMessage().redelivered,
            outcome: 'pending',
          }
        : {
            transport: 'rabbitmq',
            eventId,
            sequence: (context.getMessage() as { fields: { deliveryTag: number } }).fields
              .deliveryTag,
            redelivered: (context.getMessage() as { fields: { redelivered: boolean } }).fields
              .redelivered,
            outcome: 'pending',
          };
    deliveries.push(delivery);
    try {
      const result = await this.consumer.processOnce(
        `counter-${delivery.transport}`,
        eventId,
        async (manager) => {
          await doWork(manager, eventId, event.payload.n);
          if (event.payload.failFirst && !failedOnce.has(eventId)) {
            failedOnce.add(eventId);
            throw new Error(`first delivery of ${eventId} fails`);
          }
        },
      );
      delivery.outcome = result.processed ? 'processed' : 'skipped';
    } catch (error) {
      delivery.outcome = 'failed';
      throw error;
    }
  }
}

function envelope(n: number, options: Partial<CounterPayload> = {}): EventEnvelope<CounterPayload> {
  return {
    event_id: randomUUID(),
    event_type: 'submission.received',
    event_version: '1.0',
    aggregate_type: 'submission',
    aggregate_id: `s-${n}`,
    occurred_at: new Date().toISOString(),
    payload: { n, ...options },
  };
}

const message = (e: EventEnvelope): OutboxMessage => ({ envelope: e, headers: {} });

describe('idempotent consumers (inbox)', () => {
  const stream = uniqueName('INBOX_TEST').toUpperCase();
  const subjectPrefix = uniqueName('inbox-test').replace(/_/g, '-') + '.events';
  const exchange = new TestExchange();
  const queue = exchange.track(uniqueName('inbox.counter'));
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const logger = new CapturingLogger();
  let app: INestApplication;
  let consumer: IdempotentConsumerService;
  let natsClient: ClientJetStream;
  let rmqClient: ClientRMQ;

  beforeAll(async () => {
    await inbox.create();
    await inbox.dataSource.query(
      `CREATE TABLE "${workTable}" (event_id text NOT NULL, n integer NOT NULL)`,
    );
    nc = await connect({ servers: TEST_NATS_URL });
    jsm = await jetstreamManager(nc);
    // A 100 ms duplicate window: a re-publish of the same Nats-Msg-Id soon after is stored
    // again, as one after the default 2 minutes would be.
    await jsm.streams.add({
      name: stream,
      subjects: [`${subjectPrefix}.>`],
      duplicate_window: 100_000_000,
    });
    await exchange.connect();

    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: TEST_DATABASE_URL, retryAttempts: 0 }),
        OutboxInboxModule.forRoot({
          table: inbox.table,
          purgeBatchSize: 2,
          // Only the test purges, so its counts are its own.
          purgeCron: '0 0 0 1 1 *',
        }),
      ],
      controllers: [SubmissionCounter],
    }).compile();
    app = moduleRef.createNestApplication({ logger });
    app.connectMicroservice(
      {
        strategy: new ServerJetStream({
          servers: [TEST_NATS_URL],
          stream,
          subjectPrefix,
          durable: 'counter',
          retryDelayMs: 50,
        }),
      },
      { inheritAppConfig: true },
    );
    app.connectMicroservice(
      {
        strategy: new AckingServerRMQ({
          urls: [TEST_RABBITMQ_URL],
          exchange: exchange.exchange,
          queue,
          retryDelayMs: 50,
        }),
      },
      { inheritAppConfig: true },
    );
    await app.init();
    // Resolves once the RabbitMQ queue is declared and bound, so nothing published below is
    // unroutable; the JetStream consumers start from the first stored message anyway.
    await app.startAllMicroservices();
    consumer = app.get(IdempotentConsumerService);

    natsClient = new ClientJetStream({
      servers: [TEST_NATS_URL],
      serializer: new NatsEnvelopeSerializer(),
    });
    rmqClient = new ClientRMQ({
      urls: [TEST_RABBITMQ_URL],
      exchange: exchange.exchange,
      exchangeType: 'topic',
      wildcards: true,
      persistent: true,
      exchangeArguments: { 'alternate-exchange': `${exchange.exchange}.unroutable` },
      serializer: new RmqEnvelopeSerializer(),
    });
  });

  afterAll(async () => {
    // When the consumer stops, nothing returns to the RabbitMQ queue: every delivery was
    // acknowledged. Checked here, after every test whatever their order, since it closes the
    // application they share.
    expect(deliveries.filter((d) => d.transport === 'rabbitmq').length).toBeGreaterThan(0);
    await app?.close();
    expect(await exchange.ready(queue)).toBe(0);
    await natsClient?.close();
    await rmqClient?.close();
    await jsm?.streams.delete(stream).catch(() => undefined);
    await nc?.close();
    await exchange.destroy();
    await inbox.dataSource.query(`DROP TABLE IF EXISTS "${workTable}"`);
    await inbox.drop();
  });

  const workRows = async (eventId: string) =>
    (
      await inbox.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${workTable}" WHERE event_id = $1`,
        [eventId],
      )
    )[0].n;

  const warnings = (context: string) =>
    logger.entries.filter((e) => e.level === 'warn' && e.context === context).map((e) => e.message);

  const deliveriesOf = (eventId: string) => deliveries.filter((d) => d.eventId === eventId);

  /** Publishes as the relay does: the envelope as body, Nats-Msg-Id = event id. */
  const publishNats = (e: EventEnvelope) =>
    lastValueFrom(natsClient.emit<PubAck>(`${subjectPrefix}.${e.event_type}`, message(e)));

  /** Publishes as the relay does: the envelope as body, messageId = event id. */
  const publishRmq = (e: EventEnvelope) =>
    lastValueFrom(rmqClient.emit(e.event_type, message(e)), { defaultValue: undefined });

  describe('processOnce', () => {
    const work = (eventId: string) => (m: EntityManager) => doWork(m, eventId, 1);

    it('runs the work once per consumer and event; a second delivery is skipped without running it', async () => {
      const eventId = randomUUID();
      expect(await consumer.processOnce('c-once', eventId, work(eventId))).toEqual({
        processed: true,
        result: undefined,
      });
      expect(await consumer.processOnce('c-once', eventId, work(eventId))).toEqual({
        processed: false,
      });
      expect(await workRows(eventId)).toBe(1);
      // Another consumer processes the same event once too.
      expect((await consumer.processOnce('c-other', eventId, work(eventId))).processed).toBe(true);
      expect(await workRows(eventId)).toBe(2);
      expect(await inbox.eventIds('c-once')).toEqual([eventId]);
    });

    it('a failing handler leaves no inbox row and none of its writes, so the redelivery processes it', async () => {
      const eventId = randomUUID();
      await expect(
        consumer.processOnce('c-fail', eventId, async (m) => {
          await doWork(m, eventId, 1);
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      expect(await inbox.eventIds('c-fail')).toEqual([]);
      expect(await workRows(eventId)).toBe(0);

      expect((await consumer.processOnce('c-fail', eventId, work(eventId))).processed).toBe(true);
      expect(await inbox.eventIds('c-fail')).toEqual([eventId]);
      expect(await workRows(eventId)).toBe(1);
    });

    /** Starts a delivery whose work waits for `release`, and a concurrent second delivery. */
    async function concurrentDeliveries(consumerName: string, firstFails: boolean) {
      const eventId = randomUUID();
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let firstStarted = false;
      let secondRan = false;
      const first = consumer.processOnce(consumerName, eventId, async (m) => {
        await doWork(m, eventId, 1);
        firstStarted = true;
        await released;
        if (firstFails) throw new Error('first delivery failed');
        return 'first';
      });
      first.catch(() => undefined);
      await eventually(() => firstStarted, { what: 'the first delivery to hold its row' });
      const second = consumer.processOnce(consumerName, eventId, async (m) => {
        secondRan = true;
        await doWork(m, eventId, 2);
        return 'second';
      });
      // The second insert waits on the first one's uncommitted key.
      await eventually(
        async () => {
          const [row] = await inbox.dataSource.query<{ n: number }[]>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
              WHERE wait_event_type = 'Lock' AND query LIKE $1`,
            [`%INSERT INTO "${inbox.table}"%`],
          );
          return row.n === 1;
        },
        { what: 'the second delivery to wait on the first' },
      );
      expect(secondRan).toBe(false);
      release();
      return { eventId, first, second, secondRan: () => secondRan };
    }

    it('a concurrent redelivery waits for the first delivery, then skips the event it committed', async () => {
      const { eventId, first, second, secondRan } = await concurrentDeliveries('c-race', false);
      expect(await first).toEqual({ processed: true, result: 'first' });
      expect(await second).toEqual({ processed: false });
      expect(secondRan()).toBe(false);
      expect(await workRows(eventId)).toBe(1);
    });

    it('a concurrent redelivery processes the event when the first delivery rolled back', async () => {
      const { eventId, first, second, secondRan } = await concurrentDeliveries(
        'c-race-rollback',
        true,
      );
      await expect(first).rejects.toThrow('first delivery failed');
      expect(await second).toEqual({ processed: true, result: 'second' });
      expect(secondRan()).toBe(true);
      expect(await inbox.eventIds('c-race-rollback')).toEqual([eventId]);
    });

    it("joins the caller's transaction when given its manager: the inbox row commits or rolls back with it", async () => {
      const eventId = randomUUID();
      await expect(
        inbox.dataSource.transaction(async (manager) => {
          const r = await consumer.processOnce('c-joined', eventId, work(eventId), { manager });
          expect(r.processed).toBe(true);
          throw new Error('the caller rolls back');
        }),
      ).rejects.toThrow('the caller rolls back');
      expect(await inbox.eventIds('c-joined')).toEqual([]);
      expect(await workRows(eventId)).toBe(0);

      await inbox.dataSource.transaction((manager) =>
        consumer.processOnce('c-joined', eventId, work(eventId), { manager }),
      );
      expect(await inbox.eventIds('c-joined')).toEqual([eventId]);
      expect(await workRows(eventId)).toBe(1);
    });

    it('refuses an empty consumer or event id before any SQL', async () => {
      await expect(consumer.processOnce('', 'e', work('e'))).rejects.toBeInstanceOf(
        InvalidInboxKeyError,
      );
      await expect(consumer.processOnce('c', '', work('e'))).rejects.toThrow(/event id/);
    });

    it('names the migration to run when the inbox table is missing', async () => {
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({ type: 'postgres', url: TEST_DATABASE_URL, retryAttempts: 0 }),
          OutboxInboxModule.forRoot({ table: 'no_such_inbox_table' }),
        ],
      })
        // Nest's logger is process-wide: keep it the capturing one for the tests after this.
        .setLogger(logger)
        .compile();
      await moduleRef.init();
      try {
        const error = await moduleRef
          .get(IdempotentConsumerService)
          .processOnce('c', randomUUID(), work('x'))
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InboxTableMissingError);
        expect((error as Error).message).toMatch(/"no_such_inbox_table".*CreateEventInbox/);
      } finally {
        await moduleRef.close();
      }
    });
  });

  describe('the purge', () => {
    it('removes rows older than the retention only, at most a batch per statement; a later copy runs again', async () => {
      const old = Array.from({ length: 5 }, () => randomUUID());
      const recent = Array.from({ length: 2 }, () => randomUUID());
      await inbox.dataSource.query(
        `INSERT INTO "${inbox.table}" (consumer, event_id, processed_at)
         SELECT 'c-purge', id, now() - interval '8 days' FROM unnest($1::text[]) AS id
         UNION ALL
         SELECT 'c-purge', id, now() - interval '6 days' FROM unnest($2::text[]) AS id`,
        [old, recent],
      );
      const sevenDays = 7 * 86_400_000;
      const repository = app.get(InboxRepository);
      expect(await repository.purge(inbox.dataSource.manager, sevenDays, 2)).toBe(2);
      // The scheduled run (batches of 2) works off the rest in several statements.
      expect(await app.get(InboxRetentionScheduler).purge()).toBe(3);
      expect((await inbox.eventIds('c-purge')).sort()).toEqual([...recent].sort());

      const [forgotten] = old;
      expect(
        (await consumer.processOnce('c-purge', forgotten, () => Promise.resolve(1))).processed,
      ).toBe(true);
    });
  });

  describe('on NATS JetStream (ServerJetStream)', () => {
    it('an event stored twice under different stream sequences is processed once, and both copies are acknowledged', async () => {
      const e = envelope(1);
      const first = await publishNats(e);
      // The same message again, as the relay re-publishes after a crash: dropped inside the
      // duplicate window, stored again after it.
      const second = await eventually(
        async () => {
          const ack = await publishNats(e);
          return ack.duplicate ? undefined : ack;
        },
        { what: 'the copy to be stored again' },
      );
      expect(second.seq).not.toBe(first.seq);

      await eventually(() => deliveriesOf(e.event_id).length === 2 && deliveriesOf(e.event_id), {
        what: 'both copies to be delivered',
      });
      await eventually(() => deliveriesOf(e.event_id).every((d) => d.outcome !== 'pending'), {
        what: 'both deliveries to be handled',
      });
      const seen = deliveriesOf(e.event_id);
      expect(seen.map((d) => d.sequence)).toEqual([first.seq, second.seq]);
      expect(seen.map((d) => d.outcome)).toEqual(['processed', 'skipped']);
      expect(await workRows(e.event_id)).toBe(1);
      expect(await inbox.eventIds('counter-nats')).toContain(e.event_id);

      // Both were acknowledged: nothing is pending or awaiting an ack on the consumer.
      await eventually(
        async () => {
          const info = await jsm.consumers.info(stream, 'counter_submission_received');
          return info.num_ack_pending === 0 && info.num_pending === 0;
        },
        { what: 'both copies to be acknowledged' },
      );
    });

    it('a handler that fails is redelivered, and the redelivery is processed once', async () => {
      const e = envelope(2, { failFirst: true });
      const ack = await publishNats(e);
      await eventually(() => deliveriesOf(e.event_id).some((d) => d.outcome === 'processed'), {
        what: 'the redelivery to be processed',
      });
      const seen = deliveriesOf(e.event_id);
      expect(seen.map((d) => d.outcome)).toEqual(['failed', 'processed']);
      expect(seen.map((d) => d.sequence)).toEqual([ack.seq, ack.seq]);
      expect(seen.map((d) => d.redelivered)).toEqual([false, true]);
      expect(await workRows(e.event_id)).toBe(1);
      expect(warnings('ServerJetStream')).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `failed on stream sequence ${ack.seq} \\(.*delivery 1\\); redelivering in 50 ms`,
          ),
        ),
      );
    });
    it('terminates a message whose body is not JSON instead of redelivering it forever', async () => {
      const ack = await jetstream(nc).publish(`${subjectPrefix}.submission.received`, 'not json');
      await eventually(
        () =>
          logger
            .errors('ServerJetStream')
            .some((m) => m.startsWith(`Dead-lettered stream sequence ${ack.seq} `)),
        { what: 'the message to be dropped' },
      );
      await eventually(
        async () => {
          const info = await jsm.consumers.info(stream, 'counter_submission_received');
          return info.ack_floor.stream_seq >= ack.seq && info.num_ack_pending === 0;
        },
        { what: 'the message to be settled' },
      );
      expect(deliveries.some((d) => d.sequence === ack.seq && d.transport === 'nats')).toBe(false);
    });
  });

  describe('on RabbitMQ (AckingServerRMQ)', () => {
    it('the same messageId delivered twice is processed once, and both copies are acknowledged', async () => {
      const e = envelope(3);
      await publishRmq(e);
      await publishRmq(e);

      await eventually(
        () =>
          deliveriesOf(e.event_id).length === 2 &&
          deliveriesOf(e.event_id).every((d) => d.outcome !== 'pending'),
        { what: 'both copies to be handled' },
      );
      const seen = deliveriesOf(e.event_id);
      expect(new Set(seen.map((d) => d.transport))).toEqual(new Set(['rabbitmq']));
      expect(seen[0].sequence).not.toBe(seen[1].sequence);
      expect(seen.map((d) => d.outcome).sort()).toEqual(['processed', 'skipped']);
      expect(await workRows(e.event_id)).toBe(1);
      expect(await inbox.eventIds('counter-rabbitmq')).toContain(e.event_id);
      expect(await exchange.ready(queue)).toBe(0);
    });

    it('a handler that fails is requeued, and the redelivery is processed once', async () => {
      const e = envelope(4, { failFirst: true });
      await publishRmq(e);
      await eventually(() => deliveriesOf(e.event_id).some((d) => d.outcome === 'processed'), {
        what: 'the redelivery to be processed',
      });
      const seen = deliveriesOf(e.event_id);
      expect(seen.map((d) => d.outcome)).toEqual(['failed', 'processed']);
      expect(seen.map((d) => d.redelivered)).toEqual([false, true]);
      expect(await workRows(e.event_id)).toBe(1);
      expect(warnings('AckingServerRMQ')).toContainEqual(
        expect.stringMatching(new RegExp(`failed on message ${e.event_id}; requeueing in 50 ms`)),
      );
    });
  });
});
