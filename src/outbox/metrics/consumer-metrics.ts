import { Counter, register, type Registry } from 'prom-client';
import type {
  ConsumedMessage,
  ConsumerInstrument,
} from '../instrumentation/consumer-instrument.js';

/**
 * Options of `new ConsumerMetrics()`. Every field is optional.
 * @publicApi
 */
export interface ConsumerMetricsOptions {
  /**
   * The registry the counters are registered in: the one `OutboxMetricsModule` uses
   * (`app.get(OUTBOX_METRICS_REGISTRY)`) puts them on the same `/metrics`.
   * @default prom-client's global `register`
   */
  registry?: Registry;
  /**
   * Prepended to every metric name, as `OutboxMetricsModule`'s `prefix` is.
   * @default ''
   */
  prefix?: string;
}

type ByPattern = Counter<'transport' | 'pattern'>;

/** The counters this class created, per registry, so a second instance shares them. */
const created = new WeakMap<Registry, Map<string, ByPattern>>();

/**
 * Prometheus counters of the consumer servers' redeliveries and dead letters, per transport
 * and `@EventPattern`. The servers are created outside Nest's dependency injection, so this
 * is a plain class given to their `instrument` option:
 * ```ts
 * new ServerJetStream({ ...options, instrument: new ConsumerMetrics({ registry }) });
 * ```
 * Servers may share one instance; instances on the same registry and prefix share the
 * counters, so a second one (another server, a test, a restarted application) neither fails
 * nor starts them again from zero.
 * @publicApi
 */
export class ConsumerMetrics implements ConsumerInstrument {
  private readonly deadLetters: ByPattern;
  private readonly redeliveries: ByPattern;

  constructor({ registry = register, prefix = '' }: ConsumerMetricsOptions = {}) {
    this.deadLetters = counterIn(
      registry,
      `${prefix}outbox_consumer_dead_letters_total`,
      'Messages a consumer server dead-lettered: out of deliveries (maxDeliveries), or never processable.',
    );
    this.redeliveries = counterIn(
      registry,
      `${prefix}outbox_consumer_redeliveries_total`,
      'Messages a consumer server sent back for another delivery because their handler (or their dead-lettering) failed.',
    );
  }

  consuming(message: ConsumedMessage): void {
    this.deadLetters.inc(labelsOf(message), 0);
    this.redeliveries.inc(labelsOf(message), 0);
  }

  redelivered(message: ConsumedMessage): void {
    this.redeliveries.inc(labelsOf(message));
  }

  deadLettered(message: ConsumedMessage): void {
    this.deadLetters.inc(labelsOf(message));
  }
}

const labelsOf = ({ transport, pattern }: ConsumedMessage) => ({ transport, pattern });

/**
 * The counter of that name this class created in `registry`, while the registry still holds
 * it; else a new one. A name taken by another metric fails as prom-client fails it.
 */
function counterIn(registry: Registry, name: string, help: string): ByPattern {
  const ours = created.get(registry) ?? new Map<string, ByPattern>();
  created.set(registry, ours);
  const existing = ours.get(name);
  if (existing && registry.getSingleMetric(name) === existing) return existing;
  const counter = new Counter({
    name,
    help,
    labelNames: ['transport', 'pattern'],
    registers: [registry],
  });
  ours.set(name, counter);
  return counter;
}
