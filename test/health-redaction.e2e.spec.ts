import { Logger } from '@nestjs/common';
import { connect } from '@nats-io/transport-node';
import { OutboxRelayService } from '../src/outbox/index.js';
import { CapturingLogger } from './support/capturing-logger.js';
import { eventually } from './support/eventually.js';
import { PulseCreated } from './support/events.js';
import { startHealthApp, type HealthApp } from './support/health-app.js';
import type { TestOutboxOptions } from './support/outbox-options.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { freePort } from './support/ports.js';
import { TEST_RABBITMQ_URL, TestExchange } from './support/rabbitmq.js';
import { PrivateNatsServer } from './support/private-nats.js';
import { TcpProxy } from './support/tcp-proxy.js';

/** A broker the test can take away and bring back without touching the shared one. */
interface Outage {
  stop(): Promise<void>;
  start(): Promise<unknown>;
}

describe('health and logs with credentials in the broker URL', () => {
  const tables: TestOutboxTable[] = [];
  const apps: HealthApp[] = [];
  const cleanups: (() => Promise<unknown>)[] = [];

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
    await Promise.all(tables.map((t) => t.drop()));
  });

  /**
   * Runs the health app on `options` through a broker outage: up (an event published), down
   * (an event written, the relay meets the outage), and back (that event published). Returns
   * every liveness and readiness body served, every line Nest logged and the relay's status,
   * as text, for the caller to search.
   */
  async function throughAnOutage(options: TestOutboxOptions, broker: Outage): Promise<string[]> {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    const app = await startHealthApp({
      ...options,
      table: table.table,
      publishTimeoutMs: 1_000,
      retryBaseMs: 100,
      retryMaxMs: 400,
    });
    apps.push(app);
    // The health app silences Nest's logger, which is process-wide: record it instead.
    const logs = new CapturingLogger();
    Logger.overrideLogger(logs);
    const bodies: string[] = [];
    const probe = async (path: string) => {
      const res = await app.get(path);
      bodies.push(JSON.stringify(res.body));
      return res;
    };
    const readyWhen = (status: number, what: string) =>
      eventually(
        async () => {
          const res = await probe('/health/ready');
          return res.status === status && res;
        },
        { what, timeoutMs: 30_000 },
      );
    const write = (n: number) =>
      table.dataSource.transaction((m) =>
        app.repository.add(m, PulseCreated.create(`p-${n}`, { n })),
      );
    const published = (count: number, what: string) =>
      eventually(async () => (await table.counts()).published === count, {
        what,
        timeoutMs: 30_000,
      });

    const up = await readyWhen(200, 'ready with the broker up');
    expect(up.body.details.outbox_broker.status).toBe('up');
    await write(1);
    await published(1, 'an event published through the authenticated connection');

    await broker.stop();
    const down = await readyWhen(503, 'ready to turn 503');
    expect(down.body.error?.outbox_broker.status).toBe('down');
    await write(2);
    const relay = app.app.get(OutboxRelayService);
    await eventually(() => /broker unavailable/.test(relay.getStatus().lastError ?? ''), {
      what: 'the relay to meet the outage',
    });
    expect((await probe('/health/live')).status).toBe(200);
    await probe('/health/ready');

    await broker.start();
    await readyWhen(200, 'ready after the broker returns');
    await published(2, 'the event written during the outage published');
    await probe('/health/live');

    // The outage was logged: the search below has lines to look at.
    expect(logs.errors().length).toBeGreaterThan(0);
    return [...bodies, ...logs.entries.map((e) => e.message), JSON.stringify(relay.getStatus())];
  }

  it('RabbitMQ: never shows user:password in liveness, readiness or the logs, with the broker up, down and back', async () => {
    const target = new URL(TEST_RABBITMQ_URL);
    const proxy = new TcpProxy(await freePort(), Number(target.port || 5672));
    await proxy.start();
    cleanups.push(() => proxy.stop());
    const exchange = await new TestExchange().connect();
    cleanups.push(() => exchange.destroy());
    await exchange.bindQueue('#');
    const url = new URL(TEST_RABBITMQ_URL);
    url.host = `127.0.0.1:${proxy.port}`;
    const credentials = `${url.username}:${url.password}`;
    expect(url.password).not.toBe('');

    const texts = await throughAnOutage(
      {
        transport: 'rabbitmq',
        rabbitmqUrl: url.toString(),
        exchange: exchange.exchange,
      },
      { stop: () => proxy.stop(), start: () => proxy.start() },
    );
    for (const text of texts) {
      expect(text).not.toContain(credentials);
      expect(text).not.toContain(`${url.password}@`);
    }
  });

  it('NATS: never shows the password in liveness, readiness or the logs, with the broker up, down and back', async () => {
    const credentials = {
      user: 'outbox-relay',
      password: 'pw-4d9e1b7c-secret',
    };
    const nats = new PrivateNatsServer(credentials);
    await nats.start();
    cleanups.push(() => nats.destroy());
    // The server refuses a client without them: a broker that is up below was reached with
    // the credentials of the URL.
    await expect(connect({ servers: `nats://127.0.0.1:${nats.port}` })).rejects.toThrow(
      /authorization/i,
    );

    const texts = await throughAnOutage(
      {
        natsServers: [nats.url],
        stream: 'OUTBOX_REDACTION',
        subjectPrefix: 'redaction.events',
      },
      nats,
    );
    for (const text of texts) {
      expect(text).not.toContain(credentials.password);
      expect(text).not.toContain(`${credentials.user}:${credentials.password}`);
    }
  });
});
