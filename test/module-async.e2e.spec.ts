import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { OutboxModule, OutboxRelayService, OutboxRepository } from '../src/outbox/index.js';
import { natsTransport } from '../src/outbox/nats/index.js';
import { eventually } from './support/eventually.js';
import { PulseCreated } from './support/events.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { TEST_DATABASE_URL, TEST_NATS_URL } from './support/test-env.js';

/** `forRootAsync` as a service with `@nestjs/config` writes it: settings from ConfigService. */
describe('OutboxModule.forRootAsync with @nestjs/config', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();

  beforeAll(async () => {
    await table.create();
    await (await stream.connect()).create();
  });

  afterAll(async () => {
    await stream.destroy();
    await table.drop();
  });

  it('builds the module from a factory that reads ConfigService, and relays with it', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [
            () => ({
              outbox: { table: table.table, batchSize: 25 },
              nats: { url: TEST_NATS_URL, stream: stream.stream, prefix: stream.subjectPrefix },
            }),
          ],
        }),
        TypeOrmModule.forRoot({ type: 'postgres', url: TEST_DATABASE_URL, retryAttempts: 0 }),
        OutboxModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            table: config.getOrThrow<string>('outbox.table'),
            relay: { batchSize: config.getOrThrow<number>('outbox.batchSize') },
            transport: natsTransport({
              servers: [config.getOrThrow<string>('nats.url')],
              stream: config.getOrThrow<string>('nats.stream'),
              subjectPrefix: config.getOrThrow<string>('nats.prefix'),
            }),
          }),
        }),
      ],
    }).compile();
    await moduleRef.init();
    try {
      const event = PulseCreated.create('async', { n: 1 });
      await table.dataSource.transaction((m) => moduleRef.get(OutboxRepository).add(m, event));
      const relay = moduleRef.get(OutboxRelayService);
      await eventually(() => relay.getStatus().publishedTotal === 1, { what: 'the event relayed' });
      expect((await stream.messages()).map((m) => m.msgId)).toEqual([event.eventId]);
    } finally {
      await moduleRef.close();
    }
  });

  it('names the bad option of the factory’s result', async () => {
    const moduleRef = Test.createTestingModule({
      imports: [
        // Never connects: the module fails before anything would close the connection.
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: TEST_DATABASE_URL,
          manualInitialization: true,
        }),
        OutboxModule.forRootAsync({
          useFactory: () => ({ relay: { batchSize: 0 }, transport: natsTransport() }),
        }),
      ],
    });
    await expect(moduleRef.compile()).rejects.toThrow(
      /forRoot\(\{ relay: \{ batchSize \} \}\): must be at least 1/,
    );
  });
});
