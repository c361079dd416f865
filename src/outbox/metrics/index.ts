// The `metrics` entry point: prom-client is an optional peer dependency, so the core entry
// point never imports this folder.

// The write path and the relay: a module next to OutboxModule.
export { OutboxMetricsModule } from './outbox-metrics.module.js';
export {
  OUTBOX_METRICS_MODULE_OPTIONS,
  type OutboxMetricsModuleExtras,
} from './outbox-metrics-module-definition.js';
export type { OutboxMetricsModuleOptions } from './outbox-metrics-options.interface.js';
export { OUTBOX_METRICS_REGISTRY } from './outbox-metrics.constants.js';

// The consumer servers (ServerJetStream, AckingServerRMQ): created outside Nest's injection,
// they take an instance as their `instrument` option.
export { ConsumerMetrics, type ConsumerMetricsOptions } from './consumer-metrics.js';
