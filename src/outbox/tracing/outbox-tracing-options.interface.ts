/**
 * Options of `OutboxTracingModule.forRoot()`.
 * @publicApi
 */
export interface OutboxTracingOptions {
  /**
   * Name of the tracer (the instrumentation scope) the batch spans are recorded with.
   * @default 'nestjs-pg-outbox'
   */
  tracerName?: string;
}

/** The options with their defaults applied. */
export type ResolvedOutboxTracingOptions = Required<OutboxTracingOptions>;

/** Injection token of the resolved `OutboxTracingOptions`. @internal */
export const OUTBOX_TRACING_OPTIONS = Symbol('OUTBOX:TRACING_OPTIONS');

export const DEFAULT_TRACER_NAME = 'nestjs-pg-outbox';
