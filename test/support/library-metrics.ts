import { Registry } from 'prom-client';
import { OutboxBacklogCollector } from '../../src/outbox/metrics/backlog.collector.js';
import { ConsumerMetrics } from '../../src/outbox/metrics/consumer-metrics.js';
import { OutboxMetrics } from '../../src/outbox/metrics/outbox-metrics.js';

export interface LibraryMetric {
  readonly name: string;
  readonly histogram: boolean;
}

/**
 * The metrics the library's metrics providers register, read from a registry they were
 * constructed on (their constructors register every name; no application, database or broker
 * is needed for that). A renamed or added metric shows here without anyone editing a list.
 */
export function libraryMetrics(prefix = ''): LibraryMetric[] {
  const registry = new Registry();
  // ModuleRef is only used once the application initialises, which never happens here.
  new OutboxMetrics(registry, { prefix }, undefined as never);
  new OutboxBacklogCollector(registry, { prefix }, undefined as never);
  new ConsumerMetrics({ registry, prefix });
  return registry.getMetricsAsArray().map((metric) => ({
    name: metric.name,
    histogram: String(metric.type) === 'histogram',
  }));
}

/**
 * Every name a query may select: each metric, and for a histogram its `_bucket`, `_sum` and
 * `_count` series.
 */
export function librarySeriesNames(prefix = ''): Set<string> {
  const names = new Set<string>();
  for (const { name, histogram } of libraryMetrics(prefix)) {
    if (!histogram) names.add(name);
    else for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
  }
  return names;
}
