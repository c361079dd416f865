import { Client } from 'pg';
import { wakeupChannel } from '../src/outbox/persistence/outbox-table.sql.js';
import { eventually } from './support/eventually.js';
import { PulseCreated } from './support/events.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { TEST_DATABASE_URL } from './support/test-env.js';

// Never fires during a test run: whatever gets published was woken by a notification.
const NEVER = '0 0 0 1 1 *';

describe('LISTEN/NOTIFY wake-up', () => {
  const table = new TestOutboxTable();
  const stream = new TestStream();
  const channel = wakeupChannel(table.table);
  const apps: RelayApp[] = [];

  const start = async (options: Parameters<typeof startRelayApp>[0]) => {
    const app = await startRelayApp({
      table: table.table,
      stream: stream.stream,
      subjectPrefix: stream.subjectPrefix,
      relayCron: NEVER,
      ...options,
    });
    apps.push(app);
    return app;
  };
  const record = (app: RelayApp, title: string) => {
    const event = PulseCreated.create(`pulse-${title}`, { title });
    return table.dataSource
      .transaction((manager) => app.repository.add(manager, event))
      .then(() => event);
  };
  const isPublished = async (eventId: string) =>
    (await table.publishedEventIds()).includes(eventId);
  const idleFlag = async () => {
    const [row] = await table.dataSource.query<{ last_value: string }[]>(
      `SELECT last_value FROM "${table.table.slice(0, 52)}_relay_idle"`,
    );
    return Number(row.last_value);
  };
  const listenerPid = async () => {
    const rows = await table.dataSource.query<{ pid: number }[]>(
      `SELECT pid FROM pg_stat_activity WHERE query = $1`,
      [`LISTEN "${channel}"`],
    );
    return rows.length === 1 ? rows[0].pid : undefined;
  };

  beforeAll(async () => {
    await table.create();
    await (await stream.connect()).create();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await stream.destroy();
    await table.drop();
  });

  it('publishes a committed event with no cron tick, and marks the relay idle again', async () => {
    const app = await start({});
    await eventually(async () => (await listenerPid()) && (await idleFlag()) === 1, {
      what: 'the relay listening and idle',
    });
    const event = await record(app, 'woken');
    await eventually(() => isPublished(event.eventId), { what: 'the event published' });
    await eventually(async () => (await idleFlag()) === 1, { what: 'the relay idle again' });
    expect(app.relay.getStatus().publishedTotal).toBe(1);
  });

  it('notifies only while the flag says idle, and never with the wake-up off', async () => {
    const listener = new Client({ connectionString: TEST_DATABASE_URL });
    await listener.connect();
    const payloads: string[] = [];
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query(`LISTEN "${channel}"`);
    try {
      const writer = await start({ relayEnabled: false });
      const quiet = await start({ relayEnabled: false, relayWakeup: 'off' });
      await table.dataSource.query(`SELECT setval($1::regclass, 0)`, [
        `"${table.table.slice(0, 52)}_relay_idle"`,
      ]);
      await record(writer, 'busy');
      await table.dataSource.query(`SELECT setval($1::regclass, 1)`, [
        `"${table.table.slice(0, 52)}_relay_idle"`,
      ]);
      await record(quiet, 'off');
      await record(writer, 'idle');
      // Notifications arrive in commit order: once the sentinel is in, every earlier one is.
      await table.dataSource.query(`SELECT pg_notify($1, 'sentinel')`, [channel]);
      await eventually(() => payloads.includes('sentinel'), { what: 'the sentinel' });
      expect(payloads).toEqual(['', 'sentinel']);
    } finally {
      await listener.end();
    }
  });

  it('while it lingers after a drain, picks up new events by polling, and writers send no NOTIFY', async () => {
    // Long enough that the second write surely lands inside the linger.
    const app = await start({ relayLingerMs: 10_000 });
    await eventually(listenerPid, { what: 'the relay listening' });
    const first = await record(app, 'first');
    await eventually(() => isPublished(first.eventId), { what: 'the first event published' });
    expect(await idleFlag()).toBe(0);

    const listener = new Client({ connectionString: TEST_DATABASE_URL });
    await listener.connect();
    const payloads: string[] = [];
    listener.on('notification', (n) => payloads.push(n.payload ?? ''));
    await listener.query(`LISTEN "${channel}"`);
    try {
      const second = await record(app, 'second');
      await eventually(() => isPublished(second.eventId), { what: 'the second event published' });
      await table.dataSource.query(`SELECT pg_notify($1, 'sentinel')`, [channel]);
      await eventually(() => payloads.includes('sentinel'), { what: 'the sentinel' });
      expect(payloads).toEqual(['sentinel']);
    } finally {
      await listener.end();
    }
  });

  it('listens again on the next tick after its connection is killed', async () => {
    const app = await start({});
    const first = await eventually(listenerPid, { what: 'the relay listening' });
    await table.dataSource.query(`SELECT pg_terminate_backend($1)`, [first]);
    await eventually(async () => (await listenerPid()) !== first, { what: 'the listener gone' });
    // Ticks, as the cron would run them: the relay may notice the lost socket after the first.
    const second = await eventually(
      async () => {
        await app.relay.drain();
        return listenerPid();
      },
      { what: 'the relay listening again' },
    );
    expect(second).not.toBe(first);
    await eventually(async () => (await idleFlag()) === 1, { what: 'the relay idle' });
    const event = await record(app, 'after-reconnect');
    await eventually(() => isPublished(event.eventId), { what: 'the event published' });
  });
});
