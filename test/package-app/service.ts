// A user's service, compiled against the packed package's type declarations and run from its
// JavaScript: test/package.e2e.spec.ts installs the tarball next to these files, with the
// peers of one broker only, builds and runs it. This file imports the main entry alone.
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import {
  createOutboxMigration,
  defineDomainEvent,
  OutboxModule,
  OutboxRelayService,
  OutboxRepository,
  type OutboxRelayStatus,
  type OutboxTransportFactory,
} from 'nestjs-pg-outbox';

/** What the test hands over, as JSON in the first argument. */
export interface ServiceConfig {
  databaseUrl: string;
  migrationsTableName: string;
  table: string;
  schema: string;
  broker: Record<string, string>;
}

const PackageInstalled = defineDomainEvent<{ via: string }>({
  type: 'package.installed',
  version: '1.0',
  aggregateType: 'package',
});

/** Never called: it only has to compile, and fails to if the package's types were `any`. */
export function typesAreChecked(transport: OutboxTransportFactory): void {
  // @ts-expect-error `table` is a string
  OutboxModule.forRoot({ table: 42, transport });
  // @ts-expect-error options are grouped: the batch size is `relay.batchSize`
  OutboxModule.forRoot({ batchSize: 10, transport });
  // @ts-expect-error the payload declared above has no `version` field
  PackageInstalled.create('id', { version: 1 });
}

/** Boots the service on `transport`, records one event, relays it, prints the outcome. */
export async function runService(
  config: ServiceConfig,
  transport: OutboxTransportFactory,
): Promise<void> {
  const { table, schema } = config;
  @Module({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: config.databaseUrl,
        retryAttempts: 0,
        migrations: [createOutboxMigration({ table, schema })],
        migrationsTableName: config.migrationsTableName,
        migrationsRun: true,
      }),
      OutboxModule.forRoot({ table, schema, transport, isGlobal: true }),
    ],
  })
  class AppModule {}

  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  const dataSource = app.get(DataSource);
  const outbox = app.get(OutboxRepository);
  const relay = app.get(OutboxRelayService);

  const event = PackageInstalled.create('scratch-app', { via: 'npm pack' });
  await dataSource.transaction((manager) => outbox.add(manager, event));
  await relay.drain();
  const status: OutboxRelayStatus = relay.getStatus();
  const migrations = await dataSource.query<{ name: string }[]>(
    `SELECT name FROM "${config.migrationsTableName}"`,
  );
  await app.close();

  // The last line of stdout is the result; Nest's own logs come before it.
  console.log(
    JSON.stringify({
      eventId: event.eventId,
      publishedTotal: status.publishedTotal,
      lastError: status.lastError,
      migrations: migrations.map((m) => m.name),
    }),
  );
}
