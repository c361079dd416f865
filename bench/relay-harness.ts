import type { INestApplicationContext } from '@nestjs/common';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule, OutboxRelayService, type OutboxModuleOptions } from '../src/outbox/index.js';

/** A relay as a service would run it: a Nest application context with TypeORM and the module. */
export async function startRelay(
  databaseUrl: string,
  options: OutboxModuleOptions,
): Promise<{ app: INestApplicationContext; relay: OutboxRelayService }> {
  @Module({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: databaseUrl, retryAttempts: 0 }),
      OutboxModule.forRoot({ env: {}, ...options }),
    ],
  })
  class BenchRelayModule {}
  const app = await NestFactory.createApplicationContext(BenchRelayModule, { logger: ['error'] });
  return { app, relay: app.get(OutboxRelayService) };
}
