import { Module, type DynamicModule } from '@nestjs/common';
import {
  DEFAULT_TRACER_NAME,
  OUTBOX_TRACING_OPTIONS,
  type OutboxTracingOptions,
  type ResolvedOutboxTracingOptions,
} from './outbox-tracing-options.interface.js';
import { OutboxTracing } from './outbox-tracing.js';

/**
 * OpenTelemetry trace propagation for `OutboxModule`: the producer's trace context travels
 * in each event's headers, and each relay batch is a span linked to it. It registers itself
 * with the outbox's `OutboxInstrumentation`, so `OutboxModule` must be visible to it: import
 * that one with `isGlobal: true`.
 * ```ts
 * imports: [OutboxModule.forRoot({ transport: natsTransport(), isGlobal: true }), OutboxTracingModule.forRoot()]
 * ```
 * It only uses `@opentelemetry/api`; without an SDK registered it records and writes nothing.
 * @publicApi
 */
@Module({})
export class OutboxTracingModule {
  static forRoot(options: OutboxTracingOptions = {}): DynamicModule {
    const resolved: ResolvedOutboxTracingOptions = {
      tracerName: options.tracerName ?? DEFAULT_TRACER_NAME,
    };
    return {
      module: OutboxTracingModule,
      providers: [{ provide: OUTBOX_TRACING_OPTIONS, useValue: resolved }, OutboxTracing],
    };
  }
}
