import { execFileSync } from 'node:child_process';
import { eventually } from '../support/eventually.js';
import { TestOutboxTable } from '../support/outbox-table.js';
import { TEST_RABBITMQ_URL, TestExchange, type ReceivedMessage } from '../support/rabbitmq.js';
import { startRelayApp, type RelayApp } from '../support/relay-app.js';
import { SubmissionReceived } from '../support/events.js';

// In the fault suite (one worker): closing every broker connection must not hit other tests.
describe('RabbitMQ closing the connection mid-run', () => {
  const table = new TestOutboxTable();
  const exchange = new TestExchange();
  let app: RelayApp | undefined;

  beforeAll(async () => {
    await table.create();
    await exchange.connect();
  });

  afterAll(async () => {
    await app?.app.close();
    await exchange.destroy();
    await table.drop();
  });

  it('loses nothing, and resumes after reconnecting', async () => {
    const queue = await exchange.bindQueue('#');
    app = await startRelayApp({
      transport: 'rabbitmq',
      rabbitmqUrl: TEST_RABBITMQ_URL,
      table: table.table,
      exchange: exchange.exchange,
      batchSize: 50,
      maxInFlight: 8,
      retryBaseMs: 100,
      retryMaxMs: 1_000,
    });
    const events = Array.from({ length: 3_000 }, (_, n) =>
      SubmissionReceived.create(`s-${n % 100}`, { n }),
    );
    await table.dataSource.transaction((m) => app!.repository.add(m, events));

    await eventually(async () => (await table.counts()).published > 300, {
      intervalMs: 5,
      what: 'under way',
    });
    execFileSync('rabbitmqctl', ['close_all_connections', 'outbox fault test'], {
      stdio: 'ignore',
    });
    await exchange.reconnect();

    await eventually(async () => (await table.counts()).pending === 0, {
      timeoutMs: 60_000,
      what: 'everything published after reconnection',
    });
    const received: ReceivedMessage[] = [];
    await eventually(
      async () => {
        received.push(...(await exchange.take(queue)));
        return received.length >= events.length;
      },
      { timeoutMs: 30_000, what: 'every message' },
    );
    const ids = new Set(received.map((m) => m.messageId));
    for (const e of events) expect(ids.has(e.eventId)).toBe(true);
    // AMQP has no broker de-duplication: a publish confirmed as the connection died may be
    // sent again. Consumers de-duplicate by messageId.
    console.log('RabbitMQ connection loss:', {
      delivered: received.length,
      duplicates: received.length - ids.size,
    });
    expect(app.relay.getStatus().deadLetteredTotal).toBe(0);
  });
});
