import { Logger } from '@nestjs/common';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { OutboxPublishError } from '../errors/outbox-publish.error.js';
import { OutboxInstrumentation } from '../instrumentation/outbox-instrumentation.js';
import type { OutboxTransport } from '../transport/outbox-transport.js';
import type { ClaimedEvent } from '../message/claimed-event.js';
import type { PublishOutcome } from '../relay/outbox-publisher.js';
import { MAX_BATCH_SPAN_LINKS, OutboxTracing } from './outbox-tracing.js';

const exporter = new InMemorySpanExporter();
const tracer = () => trace.getTracer('producer');

/** A tracing instrument over a stand-in for the NATS adapter, or the RabbitMQ one. */
function tracing(broker: { exchange?: string; subjectPrefix?: string } = {}): OutboxTracing {
  const subjectPrefix = broker.subjectPrefix ?? 'shop.events';
  const transport: Pick<OutboxTransport, 'name' | 'describeDestination'> = broker.exchange
    ? {
        name: 'rabbitmq',
        describeDestination: (eventType) => ({
          system: 'rabbitmq',
          destination: broker.exchange,
          attributes: eventType ? { 'messaging.rabbitmq.destination.routing_key': eventType } : {},
        }),
      }
    : {
        name: 'nats-jetstream',
        describeDestination: (eventType) => ({
          system: 'nats',
          destination: eventType && `${subjectPrefix}.${eventType}`,
        }),
      };
  return new OutboxTracing(new OutboxInstrumentation(), transport, {
    tracerName: 'nestjs-pg-outbox',
  });
}

function claimed(i: number, headers: Record<string, string> = {}, type = 'order.placed') {
  return {
    id: String(i + 1),
    attempts: 0,
    createdAtMs: Date.now(),
    message: {
      envelope: {
        event_id: `e-${i}`,
        event_type: type,
        event_version: '1',
        aggregate_type: 'order',
        aggregate_id: `o-${i}`,
        occurred_at: '2026-01-01T00:00:00.000Z',
        payload: {},
      },
      headers,
    },
  } satisfies ClaimedEvent;
}

/** Headers as the write path stamps them inside `span`. */
function headersIn(span: Span): Record<string, string> {
  return context.with(trace.setSpan(ROOT_CONTEXT, span), () => tracing().writeHeaders() ?? {});
}

function batchSpan() {
  const spans = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
  expect(spans).toHaveLength(1);
  return spans[0];
}

describe('OutboxTracing', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
  });

  afterEach(() => exporter.reset());

  afterAll(() => {
    trace.disable();
    propagation.disable();
    context.disable();
    Logger.overrideLogger(['log', 'warn', 'error']);
  });

  it('writes the active span’s context as traceparent, and no header without one', () => {
    const producer = tracer().startSpan('place order');
    const { traceId, spanId } = producer.spanContext();
    expect(headersIn(producer)).toEqual({ traceparent: `00-${traceId}-${spanId}-01` });
    producer.end();
    expect(tracing().writeHeaders()).toBeUndefined();
  });

  it('opens one root CLIENT span per batch, named and attributed per the messaging conventions', async () => {
    const events = [claimed(0), claimed(1)];
    // A drain started inside a request: the batch span must still not join that trace.
    const request = tracer().startSpan('request');
    const result = await context.with(trace.setSpan(ROOT_CONTEXT, request), () =>
      tracing().aroundPublish(events, () => Promise.resolve('done')),
    );
    request.end();

    expect(result).toBe('done');
    const span = batchSpan();
    expect(span.name).toBe('publish shop.events.order.placed');
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe(request.spanContext().traceId);
    expect(span.status.code).toBe(SpanStatusCode.UNSET);
    expect(span.attributes).toEqual({
      'messaging.system': 'nats',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.batch.message_count': 2,
      'messaging.destination.name': 'shop.events.order.placed',
    });
  });

  it('leaves the destination out for a NATS batch of several subjects; RabbitMQ names the exchange', async () => {
    const mixed = [claimed(0), claimed(1, {}, 'order.shipped')];
    await tracing().aroundPublish(mixed, () => Promise.resolve());
    expect(batchSpan().name).toBe('publish');
    expect(batchSpan().attributes['messaging.destination.name']).toBeUndefined();
    exporter.reset();

    const rabbit = tracing({ exchange: 'shop.x' });
    await rabbit.aroundPublish([claimed(0), claimed(1)], () => Promise.resolve());
    expect(batchSpan().name).toBe('publish shop.x');
    expect(batchSpan().attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'shop.x',
      'messaging.rabbitmq.destination.routing_key': 'order.placed',
    });
  });

  it('links each distinct producer context once, and at most 128 of them', async () => {
    const producers = Array.from({ length: 200 }, (_, i) => tracer().startSpan(`producer ${i}`));
    // Two events per producer (one add() of two events), then one without any context.
    const events = producers.flatMap((p, i) => {
      const headers = headersIn(p);
      return [claimed(2 * i, headers), claimed(2 * i + 1, headers)];
    });
    events.unshift(claimed(1000));
    await tracing().aroundPublish(events, () => Promise.resolve());

    const linked = batchSpan().links.map((l) => l.context.spanId);
    expect(linked).toHaveLength(MAX_BATCH_SPAN_LINKS);
    expect(linked).toEqual(
      producers.slice(0, MAX_BATCH_SPAN_LINKS).map((p) => p.spanContext().spanId),
    );
    expect(batchSpan().links[0].context.traceId).toBe(producers[0].spanContext().traceId);
  });

  it('makes spans opened while publishing children of the batch span', async () => {
    await tracing().aroundPublish([claimed(0)], () => {
      tracer().startSpan('amqp send').end();
      return Promise.resolve();
    });
    const child = exporter.getFinishedSpans().find((s) => s.name === 'amqp send')!;
    expect(child.parentSpanContext?.spanId).toBe(batchSpan().spanContext().spanId);
  });

  it('marks the batch span failed when a publish failed, and when publishing threw', async () => {
    const events = [claimed(0), claimed(1)];
    const cause = Object.assign(new Error('no PubAck in time'), { name: 'TimeoutError' });
    const outcomes: PublishOutcome[] = [
      { id: '1', status: 'acknowledged', duplicate: false },
      {
        id: '2',
        status: 'failed',
        error: new OutboxPublishError('e-1', cause),
        failure: 'unavailable',
      },
    ];
    await expect(tracing().aroundPublish(events, () => Promise.resolve(outcomes))).resolves.toBe(
      outcomes,
    );
    expect(batchSpan().status.code).toBe(SpanStatusCode.ERROR);
    expect(batchSpan().status.message).toMatch(/^1 of 2 publishes failed; first: .*no PubAck/);
    expect(batchSpan().attributes['error.type']).toBe('TimeoutError');
    exporter.reset();

    const broken = new TypeError('claim lost');
    await expect(tracing().aroundPublish(events, () => Promise.reject(broken))).rejects.toBe(
      broken,
    );
    expect(batchSpan().status).toEqual({ code: SpanStatusCode.ERROR, message: 'claim lost' });
    expect(batchSpan().attributes['error.type']).toBe('TypeError');
    expect(batchSpan().events.map((e) => e.name)).toEqual(['exception']);
  });

  it('never fails a batch because a propagator throws: the span goes without links', async () => {
    const throwing: TextMapPropagator = {
      inject: () => undefined,
      extract: () => {
        throw new Error('broken propagator');
      },
      fields: () => [],
    };
    propagation.disable();
    propagation.setGlobalPropagator(throwing);
    try {
      await expect(tracing().aroundPublish([claimed(0)], () => Promise.resolve(7))).resolves.toBe(
        7,
      );
      expect(batchSpan().links).toEqual([]);
      expect(batchSpan().status.code).toBe(SpanStatusCode.UNSET);
    } finally {
      propagation.disable();
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
  });
});
