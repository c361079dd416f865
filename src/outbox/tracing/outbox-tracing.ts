import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { errorMessage } from '../errors/error-text.js';
import type { OutboxInstrument } from '../instrumentation/outbox-instrument.js';
import { OutboxInstrumentation } from '../instrumentation/outbox-instrumentation.js';
import type { ClaimedEvent } from '../message/claimed-event.js';
import type { PublishOutcome } from '../relay/outbox-publisher.js';
import { OUTBOX_TRANSPORT, type OutboxTransport } from '../transport/outbox-transport.js';
import {
  OUTBOX_TRACING_OPTIONS,
  type ResolvedOutboxTracingOptions,
} from './outbox-tracing-options.interface.js';

/**
 * At most this many producer contexts are linked from one batch span. It is the SDK's default
 * `OTEL_SPAN_LINK_COUNT_LIMIT`: past it the SDK drops links anyway, so extracting more would
 * be work for nothing, and a 10,000-event batch would otherwise make a span of 10,000 links.
 */
export const MAX_BATCH_SPAN_LINKS = 128;

type FailedOutcome = Extract<PublishOutcome, { status: 'failed' }>;

/**
 * Trace propagation through the outbox, on `@opentelemetry/api` alone (the application
 * chooses and registers the SDK, or none):
 * - at write time, the producer's active context is injected with the globally registered
 *   propagator into the event's headers (`traceparent`, `tracestate` with the W3C one), which
 *   the relay sends as message headers, unchanged;
 * - each relay batch is one span, linked to the producers' contexts.
 *
 * The relay never replaces an event's `traceparent` with its own span: the producer's
 * context is the message's creation context, so a consumer continues the producer's trace,
 * and the batch span reaches it through its links.
 * @publicApi
 */
@Injectable()
export class OutboxTracing implements OutboxInstrument, OnModuleInit {
  private readonly logger = new Logger(OutboxTracing.name);

  constructor(
    private readonly instrumentation: OutboxInstrumentation,
    @Inject(OUTBOX_TRANSPORT)
    private readonly transport: Pick<OutboxTransport, 'name' | 'describeDestination'>,
    @Inject(OUTBOX_TRACING_OPTIONS) private readonly tracing: ResolvedOutboxTracingOptions,
  ) {}

  onModuleInit(): void {
    this.instrumentation.register(this);
  }

  /**
   * The active context as headers. Without an SDK the global propagator is a no-op, and
   * without an active span the W3C propagator injects nothing: both give `undefined`, so the
   * row and the message carry no tracing header at all.
   */
  writeHeaders(): Record<string, string> | undefined {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    for (const _ in carrier) return carrier;
    return undefined;
  }

  /**
   * One span around one batch's publishing. It is a root span, linked to the events'
   * creation contexts: a batch carries many producers' events, so no single one of them is
   * its parent (and a drain started from a request must not end up inside that request's
   * trace). Its kind is CLIENT, not PRODUCER, because its context is not the messages'
   * creation context (messaging semantic conventions, "Span kind"). Spans of instrumented
   * clients (amqplib, pg...) opened while publishing nest under it.
   */
  async aroundPublish<T>(events: readonly ClaimedEvent[], publish: () => Promise<T>): Promise<T> {
    let span: Span;
    try {
      span = this.startBatchSpan(events);
    } catch (error) {
      // Tracing must never cost a batch: publish untraced.
      this.logger.warn(`Could not start the batch span: ${errorMessage(error)}`);
      return publish();
    }
    try {
      const result = await context.with(trace.setSpan(context.active(), span), publish);
      this.recordFailures(span, events.length, result);
      return result;
    } catch (error) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setAttribute('error.type', errorType(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: errorMessage(error) });
      throw error;
    } finally {
      span.end();
    }
  }

  private startBatchSpan(events: readonly ClaimedEvent[]): Span {
    // Looked up per batch, not cached: an SDK registered after the module started is used.
    const tracer = trace.getTracer(this.tracing.tracerName);
    const { name, attributes } = this.describe(events);
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, root: true, attributes });
    // Links are extracted only for a span that records: without an SDK, or when the sampler
    // dropped the batch, that work would be thrown away.
    if (span.isRecording()) {
      try {
        span.addLinks(creationLinks(events));
      } catch (error) {
        // A propagator that throws on a malformed header costs the links, not the span.
        this.logger.warn(`Could not link the batch span to its producers: ${errorMessage(error)}`);
      }
    }
    return span;
  }

  /**
   * Span name and attributes per the messaging semantic conventions. `messaging.system` is the
   * name today's backends group by; semconv 1.45 renames it `messaging.system.name`.
   */
  private describe(events: readonly ClaimedEvent[]): { name: string; attributes: Attributes } {
    const eventType = sharedEventType(events);
    const described = this.transport.describeDestination?.(eventType);
    const attributes: Attributes = {
      'messaging.system': described?.system ?? this.transport.name,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.batch.message_count': events.length,
      ...described?.attributes,
    };
    const destination = described?.destination;
    if (destination) attributes['messaging.destination.name'] = destination;
    return { name: destination ? `publish ${destination}` : 'publish', attributes };
  }

  /**
   * A failed publish is an outcome, not a rejection: the relay's publish resolves with one
   * outcome per event, so failures are read from it.
   */
  private recordFailures(span: Span, total: number, result: unknown): void {
    const failed = failedOutcomes(result);
    if (failed.length === 0) return;
    const [first] = failed;
    span.setAttribute('error.type', errorType(first.error.cause));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: `${failed.length} of ${total} publishes failed; first: ${first.error.message}`,
    });
  }
}

/** One link per distinct creation context; the events of one `add()` call share theirs. */
function creationLinks(events: readonly ClaimedEvent[]): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const event of events) {
    const extracted = propagation.extract(ROOT_CONTEXT, event.message.headers);
    const spanContext = trace.getSpanContext(extracted);
    if (!spanContext || !isSpanContextValid(spanContext)) continue;
    const key = `${spanContext.traceId}-${spanContext.spanId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    links.push({ context: spanContext });
    if (links.length === MAX_BATCH_SPAN_LINKS) break;
  }
  return links;
}

function sharedEventType(events: readonly ClaimedEvent[]): string | undefined {
  const first = events[0]?.message.envelope.event_type;
  return events.every((e) => e.message.envelope.event_type === first) ? first : undefined;
}

function failedOutcomes(result: unknown): FailedOutcome[] {
  if (!Array.isArray(result)) return [];
  return (result as unknown[]).filter(
    (o): o is FailedOutcome => (o as Partial<PublishOutcome> | null)?.status === 'failed',
  );
}

/** Low-cardinality, as `error.type` must be: the class name, never the message. */
function errorType(error: unknown): string {
  return error instanceof Error ? error.name : '_OTHER';
}
