import { Logger } from '@nestjs/common';
import type { ConsumedMessage } from './consumer-instrument.js';
import { ConsumerInstrumentation } from './consumer-instrumentation.js';

describe('ConsumerInstrumentation', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'warn', 'error']);
  });

  it('tells the instrument the transport and pattern of each hook it takes', () => {
    const seen: string[] = [];
    const record = (hook: string) => (m: ConsumedMessage) =>
      seen.push(`${hook} ${m.transport} ${m.pattern}`);
    const instrumentation = new ConsumerInstrumentation('rabbitmq', {
      consuming: record('consuming'),
      deadLettered: record('deadLettered'),
    });
    instrumentation.consuming('work.*');
    instrumentation.redelivered('work.*');
    instrumentation.deadLettered('work.*');
    expect(seen).toEqual(['consuming rabbitmq work.*', 'deadLettered rabbitmq work.*']);
  });

  it('never lets a failing instrument fail the message, and works without one', () => {
    const failing = new ConsumerInstrumentation('nats-jetstream', {
      deadLettered: () => {
        throw new Error('broken exporter');
      },
    });
    expect(() => failing.deadLettered('work.requested')).not.toThrow();
    expect(() =>
      new ConsumerInstrumentation('nats-jetstream', undefined).redelivered('a'),
    ).not.toThrow();
  });
});
