import { type DynamicModule, Module } from '@nestjs/common';
import { register } from 'prom-client';
import { OutboxBacklogCollector } from './backlog.collector.js';
import {
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  OUTBOX_METRICS_MODULE_OPTIONS,
} from './outbox-metrics-module-definition.js';
import type { OutboxMetricsModuleOptions } from './outbox-metrics-options.interface.js';
import { OUTBOX_METRICS_REGISTRY } from './outbox-metrics.constants.js';
import { OutboxMetrics } from './outbox-metrics.js';

/**
 * Prometheus metrics of the outbox, with prom-client: counters and histograms fed by the
 * relay and the write path, backlog gauges computed on scrape. Import it next to
 * `OutboxModule`, global or not, in any order; it finds the application's one outbox when
 * the application initialises. It serves nothing itself: expose `OUTBOX_METRICS_REGISTRY`
 * (or your own registry) on your `GET /metrics`.
 * ```ts
 * imports: [OutboxModule.forRoot({...}), OutboxMetricsModule.forRoot()]
 * ```
 * @publicApi
 */
@Module({
  providers: [
    {
      provide: OUTBOX_METRICS_REGISTRY,
      inject: [OUTBOX_METRICS_MODULE_OPTIONS],
      useFactory: (options: OutboxMetricsModuleOptions) => options.registry ?? register,
    },
    OutboxMetrics,
    OutboxBacklogCollector,
  ],
  exports: [OUTBOX_METRICS_REGISTRY],
})
export class OutboxMetricsModule extends ConfigurableModuleClass {
  /** Every option has a default, so `forRoot()` needs none. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }
}
