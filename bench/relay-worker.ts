import 'reflect-metadata';
import type { FlatOutboxOptions } from '../tools/flat-outbox-options.js';
import { startRelay } from './relay-harness.js';

/** What the parent passes in `BENCH_RELAY` (JSON). */
export interface RelayWorkerConfig {
  readonly databaseUrl: string;
  readonly options: FlatOutboxOptions;
  /** Report `process.memoryUsage()` and the relay's progress this often; 0 = never. */
  readonly sampleEveryMs: number;
}

/** One sample the worker sends to its parent over IPC. */
export interface RelaySample {
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly published: number;
}

/**
 * A relay in a process of its own, so that its memory is its own and it does not share an
 * event loop (or a CPU) with the producer and the subscriber that measure it. Started by
 * `spawnRelay()`; says `ready` over IPC, samples on a timer, closes on `stop` and exits when
 * the parent goes away.
 */
async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_RELAY ?? '') as RelayWorkerConfig;
  const { app, relay } = await startRelay(config.databaseUrl, config.options);
  const send = (message: unknown) => process.send?.(message);
  const sample = () => {
    const { rss, heapUsed } = process.memoryUsage();
    const published = relay.getStatus().publishedTotal;
    send({ rssBytes: rss, heapUsedBytes: heapUsed, published });
  };
  const timer = config.sampleEveryMs > 0 ? setInterval(sample, config.sampleEveryMs) : undefined;
  if (timer) sample();
  const stop = async () => {
    clearInterval(timer);
    if (timer) sample();
    await app.close();
    process.exit(0);
  };
  process.on('message', (message) => message === 'stop' && void stop());
  process.on('disconnect', () => process.exit(1));
  send('ready');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
