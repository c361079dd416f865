import { connect } from 'amqplib';
import { withTimeout } from '../../src/outbox/utils/with-timeout.js';
import { eventually } from '../support/eventually.js';
import type { StoredMessage } from '../support/jetstream.js';
import { TestOutboxTable } from '../support/outbox-table.js';
import { RabbitMqCluster } from '../support/rabbitmq-cluster.js';
import { startRelayApp, type RelayApp } from '../support/relay-app.js';
import { uniqueName } from '../support/test-env.js';
import { RelayProgress } from './relay-progress.js';
import { emptyWorkload, verify, writeEvents } from './workload.js';

const EVENTS = 3_000;
/** The `connection_name` the RabbitMQ transport gives its connection. */
const RELAY_CONNECTION = 'nestjs-outbox-relay';

describe('a 3-node RabbitMQ cluster whose node the relay is connected to is SIGKILLed mid-run', () => {
  const cluster = new RabbitMqCluster(3);
  const table = new TestOutboxTable();
  const exchange = uniqueName('outbox.cluster').replace(/_/g, '-');
  const queue = uniqueName('quorum');
  let relay: RelayApp | undefined;

  beforeAll(async () => {
    await table.create();
    await cluster.start();
  });

  afterAll(async () => {
    try {
      // Its cron job would keep the process alive after the suite.
      await relay?.app.close();
      await table.drop();
    } finally {
      await cluster.destroy();
    }
  });

  it('publishes everything at least once, in order per aggregate, nothing rolled back', async () => {
    const [first] = cluster.nodeNames;
    // Declared through the first node, so the queue's leader is where the relay connects
    // first (amqp-connection-manager starts with the first URL): the kill takes both.
    const setup = await connect(cluster.urls[0]);
    try {
      const channel = await setup.createChannel();
      // As the relay declares it, so either may come first.
      await channel.assertExchange(exchange, 'topic', {
        durable: true,
        arguments: { 'alternate-exchange': `${exchange}.unroutable` },
      });
      await channel.assertQueue(queue, {
        durable: true,
        arguments: { 'x-queue-type': 'quorum', 'x-quorum-initial-group-size': 3 },
      });
      await channel.bindQueue(queue, exchange, '#');
    } finally {
      await setup.close();
    }
    const replicas = await queueReplicas(first);
    expect(replicas.members.sort()).toEqual([...cluster.nodeNames].sort());

    // Configured as a service configures it: RABBITMQ_URL lists every node.
    relay = await startRelayApp({
      transport: 'rabbitmq',
      rabbitmqUrl: cluster.urls.join(','),
      table: table.table,
      exchange,
      batchSize: 100,
      maxInFlight: 8,
      publishTimeoutMs: 1_000,
      retryBaseMs: 100,
      retryMaxMs: 1_000,
    });
    const service = relay.relay;
    const progress = new RelayProgress(service);

    const workload = emptyWorkload();
    const writing = writeEvents(table.dataSource, relay.repository, workload, {
      events: EVENTS,
      aggregates: 100,
    });
    const target = await eventually(() => cluster.nodeServing(RELAY_CONNECTION, first), {
      what: 'the relay connected',
      timeoutMs: 30_000,
    });
    // Killed while the writers still write, so the relay has work left whatever its speed.
    await eventually(async () => (await table.counts()).published > 300, {
      intervalMs: 5,
      what: 'the run under way',
    });
    const leader = (await queueReplicas(first)).leader;
    const killedAt = Date.now();
    await cluster.kill(target);
    const atKill = await table.counts();
    await writing;
    // The kill landed mid-run: some published before it, more committed than that in all.
    expect(atKill.published).toBeGreaterThan(0);
    expect(atKill.published).toBeLessThan(workload.committed.size);

    await eventually(async () => (await table.counts()).pending === 0, {
      timeoutMs: 90_000,
      what: 'the drain to finish on the surviving nodes',
    }).catch((error: Error) => {
      throw new Error(`${error.message}; the relay's last error: ${service.getStatus().lastError}`);
    });
    progress.stop();

    const messages: StoredMessage[] = [];
    await eventually(() => takeQueue(cluster.liveUrls[0], messages), {
      what: 'the quorum queue read back from a surviving node',
      timeoutMs: 30_000,
    });
    const verdict = verify(messages, workload);
    const stall = progress.longestStallSince(killedAt - 1_000);
    console.log('RabbitMQ node under the relay killed:', {
      ...verdict,
      committed: workload.committed.size,
      rolledBack: workload.rolledBack.size,
      killed: target,
      queueLeader: leader,
      atKill,
      relayStall: stall,
    });
    // AMQP has no broker-side de-duplication: a publish its node took but did not confirm
    // before dying is sent again, so duplicates are reported, not asserted on.
    expect(verdict).toMatchObject({ missing: 0, rolledBackPublished: 0, orderViolations: 0 });
    expect(service.getStatus().deadLetteredTotal).toBe(0);
  });

  /** The quorum queue's leader and members, as node `via` reports them. */
  async function queueReplicas(via: string): Promise<{ leader: string; members: string[] }> {
    const rows = JSON.parse(
      await cluster.ctl(
        via,
        '-q',
        'list_queues',
        'name',
        'leader',
        'members',
        '--formatter',
        'json',
      ),
    ) as { name: string; leader: string; members: string[] }[];
    const row = rows.find((r) => r.name === queue);
    if (!row) throw new Error(`queue ${queue} not listed by ${via}`);
    return row;
  }

  /**
   * Takes every message now in the queue, in queue order, through a connection to `url`,
   * acknowledging each (a quorum queue delivers at most 2,000 unacknowledged messages to a
   * consumer without a prefetch limit). What one try took stays in `into` for the next.
   */
  async function takeQueue(url: string, into: StoredMessage[]): Promise<true> {
    const connection = await connect(url);
    connection.on('error', () => undefined);
    try {
      const channel = await connection.createChannel();
      const { messageCount } = await channel.checkQueue(queue);
      let taken = 0;
      let tookAll!: () => void;
      const done = new Promise<void>((resolve) => (tookAll = resolve));
      if (messageCount === 0) tookAll();
      await channel.prefetch(500);
      await channel.consume(queue, (m) => {
        if (!m) return;
        into.push({
          subject: m.fields.routingKey,
          msgId: m.properties.messageId as string | undefined,
          headers: {},
          body: JSON.parse(m.content.toString()) as Record<string, unknown>,
        });
        channel.ack(m);
        if (++taken === messageCount) tookAll();
      });
      await withTimeout(done, 20_000);
      return true;
    } finally {
      await connection.close().catch(() => undefined);
    }
  }
});
