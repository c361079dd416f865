import type { Registry } from 'prom-client';

/**
 * Options of `OutboxMetricsModule.forRoot()`. Every field is optional.
 * @publicApi
 */
export interface OutboxMetricsModuleOptions {
  /**
   * The registry the metrics are registered in. Pass your own to serve them on an existing
   * endpoint (for example the one `@willsoto/nestjs-prometheus` serves, which uses the global
   * registry unless told otherwise).
   * @default prom-client's global `register`
   */
  registry?: Registry;
  /**
   * Prepended to every metric name, e.g. `'shop_'` gives `shop_outbox_events_published_total`.
   * @default ''
   */
  prefix?: string;
  /**
   * Upper bounds (seconds) of `outbox_batch_duration_seconds`.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
   */
  batchDurationBuckets?: number[];
  /**
   * Upper bounds (seconds) of `outbox_publish_lag_seconds`.
   * @default [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]
   */
  publishLagBuckets?: number[];
}
