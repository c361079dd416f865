import { groupOutboxOptions, type FlatOutboxOptions } from '../tools/flat-outbox-options.js';
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { OutboxModule, OutboxRelayService, OutboxRepository } from '../src/outbox/index.js';
import type { RelaySample, RelayWorkerConfig } from './relay-worker.js';

/**
 * A relay as a service would run it: a Nest application context with TypeORM and the module.
 * With `relayEnabled: false` it is a writer-only replica, whose `OutboxRepository` writes.
 */
export async function startRelay(
  databaseUrl: string,
  options: FlatOutboxOptions,
  poolSize = 10,
): Promise<{ app: INestApplicationContext; relay: OutboxRelayService }> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: databaseUrl,
        retryAttempts: 0,
        extra: { max: poolSize },
      }),
      OutboxModule.forRoot(groupOutboxOptions(options)),
    ],
  })
  class BenchRelayModule {}
  const app = await NestFactory.createApplicationContext(BenchRelayModule, { logger: ['error'] });
  return { app, relay: app.get(OutboxRelayService) };
}

/** A sample as the parent received it, stamped with the parent's `performance.now()`. */
export type ReceivedSample = RelaySample & { readonly atMs: number };

/** A relay in a child process (bench/relay-worker.ts), and what it reported. */
export interface RelayProcess {
  readonly pid: number;
  readonly samples: ReceivedSample[];
  /** Closes the relay's application (its batch in flight finishes) and waits for the exit. */
  readonly stop: () => Promise<void>;
}

const STOP_TIMEOUT_MS = 20_000;

/** Starts `startRelay()` in a child process; resolves once the relay runs. */
export function spawnRelay(
  databaseUrl: string,
  options: FlatOutboxOptions,
  sampleEveryMs = 0,
): Promise<RelayProcess> {
  const config: RelayWorkerConfig = { databaseUrl, options, sampleEveryMs };
  const child = fork(join(__dirname, 'relay-worker.js'), [], {
    env: { ...process.env, BENCH_RELAY: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const samples: ReceivedSample[] = [];
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.send('stop');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  return new Promise((resolve, reject) => {
    child.on('message', (message: RelaySample | 'ready') => {
      if (message === 'ready') resolve({ pid: child.pid!, samples, stop });
      else samples.push({ ...message, atMs: performance.now() });
    });
    child.once('exit', (code) => reject(new Error(`relay process exited early (${code})`)));
  });
}

/**
 * A writer-only replica (`relayEnabled: false`): the DataSource and repository a service uses,
 * with `poolSize` connections (pg's default is 10).
 */
export async function startWriter(
  databaseUrl: string,
  options: FlatOutboxOptions,
  poolSize?: number,
): Promise<{ dataSource: DataSource; outbox: OutboxRepository; close: () => Promise<void> }> {
  const { app } = await startRelay(databaseUrl, { ...options, relayEnabled: false }, poolSize);
  return {
    dataSource: app.get(DataSource),
    outbox: app.get(OutboxRepository),
    close: () => app.close(),
  };
}
