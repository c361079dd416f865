// The `./tracing` entry point. The core (`../index.ts`) never imports it, so
// `@opentelemetry/api` stays an optional peer dependency for applications that do not trace.
export { OutboxTracingModule } from './outbox-tracing.module.js';
export { OutboxTracing, MAX_BATCH_SPAN_LINKS } from './outbox-tracing.js';
export type { OutboxTracingOptions } from './outbox-tracing-options.interface.js';
