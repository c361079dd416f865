import { Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { ClsPluginTransactional, Transactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { ClsModule } from 'nestjs-cls';
import {
  OutboxModule,
  OutboxRepository,
  OutboxTransactionRequiredError,
} from '../src/outbox/index.js';
import { natsTransport } from '../src/outbox/nats/index.js';
import { PulseCreated } from './support/events.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { TEST_DATABASE_URL } from './support/test-env.js';

@Injectable()
class PulseWriter {
  constructor(private readonly outbox: OutboxRepository) {}

  @Transactional()
  async publish(aggregateId: string, fail: boolean): Promise<void> {
    await this.outbox.record(PulseCreated.create(aggregateId, { n: 1 }));
    if (fail) throw new Error('business rule failed');
  }

  /** No transaction around it. */
  async publishOutside(aggregateId: string): Promise<void> {
    await this.outbox.record(PulseCreated.create(aggregateId, { n: 1 }));
  }
}

describe('writing in an ambient @Transactional() transaction (nestjs-cls)', () => {
  const table = new TestOutboxTable();
  let app: INestApplicationContext;

  beforeAll(async () => {
    await table.create();
    app = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: TEST_DATABASE_URL, retryAttempts: 0 }),
        ClsModule.forRoot({
          global: true,
          plugins: [
            new ClsPluginTransactional({
              imports: [TypeOrmModule],
              adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
            }),
          ],
        }),
        OutboxModule.forRoot({
          table: table.table,
          relay: { enabled: false },
          transport: natsTransport(),
          entityManagerResolver: () =>
            TransactionHost.getInstance<TransactionalAdapterTypeOrm>().tx,
        }),
      ],
      providers: [PulseWriter],
    }).compile();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await table.drop();
  });

  const rowsOf = async (aggregateId: string) =>
    (
      await table.dataSource.query<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM "${table.table}" WHERE aggregate_id = $1`,
        [aggregateId],
      )
    )[0].n;

  it('joins the transaction without a manager being passed: committed → a row, rolled back → none', async () => {
    const writer = app.get(PulseWriter);
    await writer.publish('committed', false);
    await expect(writer.publish('rolled-back', true)).rejects.toThrow('business rule failed');
    expect(await rowsOf('committed')).toBe(1);
    expect(await rowsOf('rolled-back')).toBe(0);
  });

  it('refuses a write with no transaction around it', async () => {
    await expect(app.get(PulseWriter).publishOutside('outside')).rejects.toBeInstanceOf(
      OutboxTransactionRequiredError,
    );
    expect(await rowsOf('outside')).toBe(0);
  });
});
