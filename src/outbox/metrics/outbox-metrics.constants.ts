/**
 * Injection token of the prom-client `Registry` the outbox metrics live in: the one given to
 * `OutboxMetricsModule.forRoot({ registry })`, else prom-client's global `register`. Inject it
 * in the controller that serves `GET /metrics`.
 * @publicApi
 */
export const OUTBOX_METRICS_REGISTRY = Symbol('OUTBOX:METRICS_REGISTRY');

/** @internal */
export const DEFAULT_BATCH_DURATION_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

/** @internal */
export const DEFAULT_PUBLISH_LAG_BUCKETS = [
  0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600,
];
