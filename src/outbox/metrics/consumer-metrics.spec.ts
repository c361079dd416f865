import { Counter, Registry } from 'prom-client';
import { ConsumerMetrics } from './consumer-metrics.js';

const DEAD_LETTERS = 'outbox_consumer_dead_letters_total';
const jetstream = { transport: 'nats-jetstream', pattern: 'work.requested' } as const;
const rabbitmq = { transport: 'rabbitmq', pattern: 'work.*' } as const;

async function valueOf(
  registry: Registry,
  name: string,
  labels: object,
): Promise<number | undefined> {
  const metric = registry.getSingleMetric(name);
  const values = (await metric?.get())?.values ?? [];
  return values.find((v) => JSON.stringify(v.labels) === JSON.stringify(labels))?.value;
}

describe('ConsumerMetrics', () => {
  it('creates a pattern’s series at 0 when its server starts consuming it', async () => {
    const registry = new Registry();
    const metrics = new ConsumerMetrics({ registry });
    expect(await valueOf(registry, DEAD_LETTERS, jetstream)).toBeUndefined();
    metrics.consuming(jetstream);
    expect(await valueOf(registry, DEAD_LETTERS, jetstream)).toBe(0);
    expect(await valueOf(registry, 'outbox_consumer_redeliveries_total', jetstream)).toBe(0);
  });

  it('shares its counters with another instance on the same registry and prefix', async () => {
    const registry = new Registry();
    const first = new ConsumerMetrics({ registry, prefix: 'shop_' });
    const second = new ConsumerMetrics({ registry, prefix: 'shop_' });
    first.deadLettered(jetstream);
    second.deadLettered(jetstream);
    second.deadLettered(rabbitmq);
    second.redelivered(rabbitmq);
    expect(await valueOf(registry, `shop_${DEAD_LETTERS}`, jetstream)).toBe(2);
    expect(await valueOf(registry, `shop_${DEAD_LETTERS}`, rabbitmq)).toBe(1);
    expect(await valueOf(registry, 'shop_outbox_consumer_redeliveries_total', rabbitmq)).toBe(1);
    expect(registry.getSingleMetric(DEAD_LETTERS)).toBeUndefined();
  });

  it('registers its counters again in a registry that was cleared', async () => {
    const registry = new Registry();
    new ConsumerMetrics({ registry }).deadLettered(jetstream);
    registry.clear();
    new ConsumerMetrics({ registry }).deadLettered(jetstream);
    expect(await valueOf(registry, DEAD_LETTERS, jetstream)).toBe(1);
  });

  it('leaves a name another metric took to fail as prom-client fails it', () => {
    const registry = new Registry();
    new Counter({ name: DEAD_LETTERS, help: 'an application’s own', registers: [registry] });
    expect(() => new ConsumerMetrics({ registry })).toThrow(/already been registered/);
  });
});
