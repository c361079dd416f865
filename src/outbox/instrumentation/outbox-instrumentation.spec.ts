import { Logger } from '@nestjs/common';
import { OutboxInstrumentation } from './outbox-instrumentation.js';

describe('OutboxInstrumentation', () => {
  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'warn', 'error']);
  });

  it('merges the instruments’ write headers, later instruments winning', () => {
    const instrumentation = new OutboxInstrumentation();
    expect(instrumentation.writeHeaders()).toBeUndefined();
    instrumentation.register({ writeHeaders: () => ({ a: '1', b: '1' }) });
    instrumentation.register({ writeHeaders: () => undefined });
    instrumentation.register({ writeHeaders: () => ({ b: '2' }) });
    expect(instrumentation.writeHeaders()).toEqual({ a: '1', b: '2' });
  });

  it('nests aroundPublish wrappers, the first registered outermost, and returns the result', async () => {
    const instrumentation = new OutboxInstrumentation();
    const trail: string[] = [];
    for (const name of ['outer', 'inner']) {
      instrumentation.register({
        async aroundPublish(_events, publish) {
          trail.push(`${name}>`);
          const result = await publish();
          trail.push(`<${name}`);
          return result;
        },
      });
    }
    const result = await instrumentation.aroundPublish([], () => {
      trail.push('publish');
      return Promise.resolve(42);
    });
    expect(result).toBe(42);
    expect(trail).toEqual(['outer>', 'inner>', 'publish', '<inner', '<outer']);
  });

  it('never lets a failing instrument fail the write or the batch', () => {
    const instrumentation = new OutboxInstrumentation();
    const seen: number[] = [];
    instrumentation.register({
      eventsRecorded: () => {
        throw new Error('broken exporter');
      },
    });
    instrumentation.register({ eventsRecorded: (events) => seen.push(events.length) });
    expect(() => instrumentation.eventsRecorded([])).not.toThrow();
    expect(seen).toEqual([0]);
  });

  it('asks for batch reports only when an instrument takes them', () => {
    const instrumentation = new OutboxInstrumentation();
    instrumentation.register({ writeHeaders: () => ({ traceparent: 'tp' }) });
    expect(instrumentation.reportsBatches).toBe(false);
    instrumentation.register({ batchRelayed: () => undefined });
    expect(instrumentation.reportsBatches).toBe(true);
  });
});
