import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  trace,
  TraceFlags,
  type SpanContext,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { DomainEvent } from '../src/outbox/index.js';
import { OutboxTracingModule } from '../src/outbox/tracing/index.js';
import { PulseCreated } from './support/events.js';
import { eventually } from './support/eventually.js';
import { TestStream, type StoredMessage } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { TEST_RABBITMQ_URL, TestExchange, type ReceivedMessage } from './support/rabbitmq.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { outboxOn } from './support/outbox-options.js';

// Each Jest test file has its own global object, so what is registered here stays here;
// it is still unregistered after each block, so the blocks do not see each other's.
describe('trace propagation through the outbox (OutboxTracingModule)', () => {
  const tables: TestOutboxTable[] = [];
  const streams: TestStream[] = [];
  const exchanges: TestExchange[] = [];
  const apps: RelayApp[] = [];

  afterAll(async () => {
    await Promise.all(apps.map((a) => a.app.close()));
    await Promise.all(streams.map((s) => s.destroy()));
    await Promise.all(exchanges.map((e) => e.destroy()));
    await Promise.all(tables.map((t) => t.drop()));
  });

  async function natsRelay() {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    const stream = await new TestStream().connect();
    streams.push(stream);
    const relay = await startRelayApp(
      {
        ...outboxOn(table, stream),
        isGlobal: true,
      },
      { imports: [OutboxTracingModule.forRoot()] },
    );
    apps.push(relay);
    return { table, stream, relay };
  }

  async function storedMessage(stream: TestStream, event: DomainEvent): Promise<StoredMessage> {
    return eventually(
      async () => (await stream.messages()).find((m) => m.msgId === event.eventId),
      { what: `event ${event.eventId} in the stream` },
    );
  }

  async function rowHeaders(table: TestOutboxTable, event: DomainEvent) {
    const [row] = await table.dataSource.query<{ headers: Record<string, string> }[]>(
      `SELECT headers FROM "${table.table}" WHERE event_id = $1`,
      [event.eventId],
    );
    return row.headers;
  }

  describe('with an OpenTelemetry SDK registered', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const tracer = () => trace.getTracer('test-producer');

    beforeAll(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
      trace.setGlobalTracerProvider(provider);
    });

    afterAll(async () => {
      trace.disable();
      propagation.disable();
      context.disable();
      await provider.shutdown();
    });

    /** Runs `write` inside a fresh producer span, as a traced request handler would. */
    function inProducerSpan(write: () => Promise<unknown>): Promise<SpanContext> {
      return tracer().startActiveSpan('place order', async (span) => {
        await write();
        span.end();
        return span.spanContext();
      });
    }

    function batchSpanLinkedTo(producer: SpanContext) {
      return eventually(
        () =>
          exporter
            .getFinishedSpans()
            .find(
              (s) =>
                s.kind === SpanKind.CLIENT &&
                s.links.some((l) => l.context.spanId === producer.spanId),
            ),
        { what: 'a batch span linked to the producer span' },
      );
    }

    it("carries the producer span's trace context to the JetStream message, and links the batch span to it", async () => {
      const { table, stream, relay } = await natsRelay();
      const events = [1, 2].map((n) => PulseCreated.create(`traced-${n}`, { n }));
      const producer = await inProducerSpan(() =>
        table.dataSource.transaction((m) => relay.repository.add(m, events)),
      );
      const traceparent = `00-${producer.traceId}-${producer.spanId}-01`;

      expect(await rowHeaders(table, events[0])).toEqual({ traceparent });
      // version-traceid-parentid-flags: the producer span's trace and its own span id.
      for (const event of events) {
        expect((await storedMessage(stream, event)).headers.traceparent).toBe(traceparent);
      }

      const batch = await batchSpanLinkedTo(producer);
      const subject = `${stream.subjectPrefix}.learning_pulse.created`;
      expect(batch.name).toBe(`publish ${subject}`);
      // Both events came from one add(): one link, to the producer's own span.
      expect(batch.links).toHaveLength(1);
      expect(batch.links[0].context.traceId).toBe(producer.traceId);
      expect(batch.attributes).toMatchObject({
        'messaging.system': 'nats',
        'messaging.destination.name': subject,
        'messaging.batch.message_count': 2,
      });
    });

    it("carries it over RabbitMQ too, in the message's headers", async () => {
      const table = await new TestOutboxTable().create();
      tables.push(table);
      const exchange = await new TestExchange().connect();
      exchanges.push(exchange);
      const queue = await exchange.bindQueue('#');
      const relay = await startRelayApp(
        {
          transport: 'rabbitmq',
          rabbitmqUrl: TEST_RABBITMQ_URL,
          table: table.table,
          exchange: exchange.exchange,
          isGlobal: true,
        },
        { imports: [OutboxTracingModule.forRoot()] },
      );
      apps.push(relay);
      const event = PulseCreated.create('traced-rmq', { n: 1 });
      const producer = await inProducerSpan(() =>
        table.dataSource.transaction((m) => relay.repository.add(m, event)),
      );

      const received: ReceivedMessage[] = [];
      const message = await eventually(
        async () => {
          received.push(...(await exchange.take(queue)));
          return received.find((m) => m.messageId === event.eventId);
        },
        { what: 'the event on the RabbitMQ queue' },
      );
      expect(message.headers.traceparent).toBe(`00-${producer.traceId}-${producer.spanId}-01`);

      const batch = await batchSpanLinkedTo(producer);
      expect(batch.name).toBe(`publish ${exchange.exchange}`);
      expect(batch.attributes).toMatchObject({
        'messaging.system': 'rabbitmq',
        'messaging.destination.name': exchange.exchange,
        'messaging.rabbitmq.destination.routing_key': 'learning_pulse.created',
      });
    });
  });

  describe('without an OpenTelemetry SDK', () => {
    // Only a context manager, so a span context really is active while writing: what is
    // missing is the SDK's propagator, and with it any reason to write a header.
    beforeAll(() => {
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    });

    afterAll(() => context.disable());

    it('writes and sends no trace header', async () => {
      const { table, stream, relay } = await natsRelay();
      const active: SpanContext = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
      };
      const event = PulseCreated.create('untraced', { n: 1 });
      await context.with(trace.setSpanContext(ROOT_CONTEXT, active), () =>
        table.dataSource.transaction((m) => relay.repository.add(m, event)),
      );

      expect(await rowHeaders(table, event)).toEqual({});
      const message = await storedMessage(stream, event);
      expect(message.headers).not.toHaveProperty('traceparent');
    });
  });
});
