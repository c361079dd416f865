import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule, OutboxRelayService, outboxOptionsFromEnv } from '../../src/outbox/index.js';
import { natsTransportFromEnv } from '../../src/outbox/nats/index.js';

/**
 * A relay in a process of its own, configured by the environment exactly as a service would
 * be, so a fault test can SIGKILL it at any instruction.
 */
@Module({
  imports: [
    TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, retryAttempts: 0 }),
    OutboxModule.forRoot({
      ...outboxOptionsFromEnv(process.env),
      transport: natsTransportFromEnv(process.env),
    }),
  ],
})
class RelayWorkerModule {}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(RelayWorkerModule, {
    logger: ['error'],
    abortOnError: false,
  });
  app.enableShutdownHooks();
  // A fault test asks what this relay has done (relayStatus()), e.g. how many duplicates
  // JetStream reported after an earlier incarnation was killed.
  const relay = app.get(OutboxRelayService);
  process.on('message', () => process.send?.(relay.getStatus()));
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
