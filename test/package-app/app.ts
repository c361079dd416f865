// A user's service, compiled against the packed package's type declarations and run from its
// JavaScript: test/package.e2e.spec.ts installs the tarball next to this file, builds and runs it.
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
  type OutboxModuleOptions,
  type OutboxRelayStatus,
} from 'nestjs-pg-outbox';

/** What the test hands over, as JSON in the first argument. */
interface AppConfig {
  databaseUrl: string;
  migrationsTableName: string;
  outbox: Required<
    Pick<OutboxModuleOptions, 'table' | 'schema' | 'natsServers' | 'stream' | 'subjectPrefix'>
  >;
}

const config = JSON.parse(process.argv[2]) as AppConfig;
const { table, schema } = config.outbox;

const PackageInstalled = defineDomainEvent<{ via: string }>({
  type: 'package.installed',
  version: '1.0',
  aggregateType: 'package',
});

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
    OutboxModule.forRoot({ ...config.outbox, env: {}, isGlobal: true }),
  ],
})
class AppModule {}

/** Never called: it only has to compile, and fails to if the package's types were `any`. */
export function typesAreChecked(): void {
  // @ts-expect-error `table` is a string
  OutboxModule.forRoot({ table: 42 });
  // @ts-expect-error the payload declared above has no `version` field
  PackageInstalled.create('id', { version: 1 });
}

async function main(): Promise<void> {
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

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
