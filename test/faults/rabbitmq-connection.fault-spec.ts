import { eventually } from '../support/eventually.js';
import { TestOutboxTable } from '../support/outbox-table.js';
import { freePort } from '../support/ports.js';
import { TEST_RABBITMQ_URL, TestExchange, type ReceivedMessage } from '../support/rabbitmq.js';
import {
  brokerConnections,
  closeBrokerConnection,
  type BrokerConnection,
} from '../support/rabbitmq-connections.js';
import { startRelayApp, type RelayApp } from '../support/relay-app.js';
import { SubmissionReceived } from '../support/events.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/**
 * The broker closes the relay's connection, and only that one: the broker is shared with
 * other people's tests. The relay connects through a proxy of the test's own, so its
 * connection is the one whose client port is the proxy's.
 */
describe('RabbitMQ closing the connection mid-run', () => {
  const table = new TestOutboxTable();
  const exchange = new TestExchange();
  const brokerUrl = new URL(TEST_RABBITMQ_URL);
  let proxy: TcpProxy | undefined;
  let app: RelayApp | undefined;

  beforeAll(async () => {
    await table.create();
    await exchange.connect();
    proxy = new TcpProxy(await freePort(), Number(brokerUrl.port || 5672));
    await proxy.start();
  });

  afterAll(async () => {
    await app?.app.close();
    await proxy?.stop();
    await exchange.destroy();
    await table.drop();
  });

  /** The broker's connections that came through the proxy: the relay's. */
  async function relayConnections(): Promise<BrokerConnection[]> {
    const ports = new Set(proxy!.upstreamPorts());
    return (await brokerConnections()).filter((c) => ports.has(c.peerPort));
  }

  it('loses nothing, and resumes after reconnecting', async () => {
    const queue = await exchange.bindQueue('#');
    const relayUrl = new URL(brokerUrl);
    relayUrl.port = String(proxy!.port);
    app = await startRelayApp({
      transport: 'rabbitmq',
      rabbitmqUrl: relayUrl.toString(),
      table: table.table,
      exchange: exchange.exchange,
      batchSize: 50,
      maxInFlight: 8,
      retryBaseMs: 100,
      retryMaxMs: 1_000,
    });
    const events = Array.from({ length: 5_000 }, (_, n) =>
      SubmissionReceived.create(`s-${n % 100}`, { n }),
    );
    await table.dataSource.transaction((m) => app!.repository.add(m, events));

    // Once under way, the relay publishes on one connection (its topology connection is
    // closed by then), named by the library.
    const named = await eventually(
      async () => {
        if ((await table.counts()).published <= 300) return false;
        const found = (await relayConnections()).filter(
          (c) => c.connectionName === 'nestjs-outbox-relay',
        );
        return found.length > 0 && found;
      },
      { intervalMs: 5, what: "the relay's connection, under way" },
    );
    expect(named).toHaveLength(1);
    const [connection] = named;
    const acceptedBefore = proxy!.accepted;
    await closeBrokerConnection(connection.pid, 'outbox fault test');
    const atFault = await table.counts();
    expect(atFault.published).toBeGreaterThan(0);
    expect(atFault.pending).toBeGreaterThan(0);

    // The relay lost that connection and opened another one.
    await eventually(
      async () => {
        const now = await relayConnections();
        return (
          proxy!.accepted > acceptedBefore &&
          now.length > 0 &&
          now.every((c) => c.pid !== connection.pid)
        );
      },
      { what: 'the relay to reconnect' },
    );
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
      atFault,
      delivered: received.length,
      duplicates: received.length - ids.size,
    });
    expect(app.relay.getStatus().deadLetteredTotal).toBe(0);
  });
});
