import { Client } from 'pg';
import { OutboxWakeupService } from '../src/outbox/wakeup/outbox-wakeup.service.js';
import { relayIdleSequence, wakeupChannel } from '../src/outbox/wakeup/wakeup.sql.js';
import { eventually } from './support/eventually.js';
import { PulseCreated } from './support/events.js';
import { TestStream } from './support/jetstream.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { startRelayApp, type RelayApp } from './support/relay-app.js';
import { TEST_DATABASE_URL } from './support/test-env.js';
import { outboxOn } from './support/outbox-options.js';

// Never fires during a test run: whatever gets published was woken by a notification.
const NEVER = '0 0 0 1 1 *';

describe('LISTEN/NOTIFY wake-up', () => {
  const stream = new TestStream();
  const tables: TestOutboxTable[] = [];
  const apps: RelayApp[] = [];

  /** Each test has its own table, and so its own idle flag and channel. */
  async function setup() {
    const table = await new TestOutboxTable().create();
    tables.push(table);
    const channel = wakeupChannel(table.table);
    const start = async (options: Parameters<typeof startRelayApp>[0] = {}) => {
      const app = await startRelayApp({
        ...outboxOn(table, stream),
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
        `SELECT last_value FROM ${relayIdleSequence(table.table)}`,
      );
      return Number(row.last_value);
    };
    const setIdleFlag = (value: 0 | 1) =>
      table.dataSource.query(`SELECT setval($1::regclass, $2)`, [
        relayIdleSequence(table.table),
        value,
      ]);
    const listenerPid = async () => {
      const rows = await table.dataSource.query<{ pid: number }[]>(
        `SELECT pid FROM pg_stat_activity WHERE query = $1`,
        [`LISTEN "${channel}"`],
      );
      return rows.length === 1 ? rows[0].pid : undefined;
    };
    /** Collects the channel's notifications; `settle()` waits until all sent so far are in. */
    const tap = async () => {
      const listener = new Client({ connectionString: TEST_DATABASE_URL });
      await listener.connect();
      const payloads: string[] = [];
      listener.on('notification', (n) => payloads.push(n.payload ?? ''));
      await listener.query(`LISTEN "${channel}"`);
      return {
        payloads,
        // Notifications arrive in commit order: once the sentinel is in, every earlier one is.
        settle: async () => {
          await table.dataSource.query(`SELECT pg_notify($1, 'sentinel')`, [channel]);
          await eventually(() => payloads.includes('sentinel'), { what: 'the sentinel' });
        },
        close: () => listener.end(),
      };
    };
    return { table, start, record, isPublished, idleFlag, setIdleFlag, listenerPid, tap };
  }

  /**
   * Waits until `app` listens and its first drain after LISTEN, which writes the flag, is over.
   * A listener's pid, or the flag at 1, says neither: the pid shows from LISTEN on, before the
   * self-check, and the flag starts at 1.
   */
  async function listeningAndIdle(app: RelayApp): Promise<void> {
    // Logged right before that drain starts; drain() then joins it.
    await eventually(
      () => app.logger.entries.some((e) => /Listening for new events/.test(e.message)),
      { what: 'the relay listening' },
    );
    await app.relay.drain();
  }

  /**
   * Waits until `app` listens and its first drain after LISTEN is over, then counts its flag
   * writes, alone or carried by a claim. The spies call through: the flag is still written.
   */
  async function flagWritesOnceIdle(app: RelayApp, idleFlag: () => Promise<number>) {
    await listeningAndIdle(app);
    expect(await idleFlag()).toBe(1);
    const wakeup = app.app.get(OutboxWakeupService);
    return {
      advertise: jest.spyOn(wakeup, 'advertiseIdle'),
      withClaim: jest.spyOn(wakeup, 'advertiseIdleStatement'),
    };
  }

  beforeAll(async () => {
    await (await stream.connect()).create();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.app.close()));
  });

  afterAll(async () => {
    await stream.destroy();
    await Promise.all(tables.map((t) => t.drop()));
  });

  it('publishes a committed event with no cron tick, and marks the relay idle again', async () => {
    const { start, record, isPublished, idleFlag, listenerPid } = await setup();
    const app = await start();
    await eventually(async () => (await listenerPid()) && (await idleFlag()) === 1, {
      what: 'the relay listening and idle',
    });
    const event = await record(app, 'woken');
    await eventually(() => isPublished(event.eventId), { what: 'the event published' });
    await eventually(async () => (await idleFlag()) === 1, { what: 'the relay idle again' });
    // The commit is visible before the relay has counted it: wait on the relay's own status.
    await eventually(() => app.relay.getStatus().publishedTotal === 1, {
      what: 'the relay to count the event',
    });
    expect(app.relay.getStatus().publishedTotal).toBe(1);
  });

  it('does not mark itself busy for a batch that merely had rows', async () => {
    const { start, record, idleFlag } = await setup();
    const app = await start();
    const { advertise, withClaim } = await flagWritesOnceIdle(app, idleFlag);
    await record(app, 'lone');
    await eventually(
      () => app.relay.getStatus().publishedTotal === 1 && !app.relay.getStatus().running,
      { what: 'the drain that published it to end' },
    );
    // Busy would cost two flag writes and an empty claim for every lone event.
    expect(advertise).not.toHaveBeenCalledWith(false);
    expect(withClaim).not.toHaveBeenCalledWith(false);
    expect(await idleFlag()).toBe(1);
  });

  it('does not mark itself busy for a cron tick that comes during a drain', async () => {
    const { start, idleFlag } = await setup();
    const app = await start();
    const { advertise, withClaim } = await flagWritesOnceIdle(app, idleFlag);
    // The second tick comes while the first one's drain is in flight: a look, not a sign of
    // events coming, so writers must go on notifying.
    await Promise.all([app.relay.tick(), app.relay.tick()]);
    expect(advertise).not.toHaveBeenCalledWith(false);
    expect(withClaim).not.toHaveBeenCalledWith(false);
    expect(await idleFlag()).toBe(1);
  });

  it('writes the flag through a backlog with its claims, in no round trip of its own', async () => {
    const { table, start, idleFlag } = await setup();
    const writer = await start({ relayEnabled: false });
    const app = await start({ batchSize: 5, relayConcurrency: 1 });
    const { advertise, withClaim } = await flagWritesOnceIdle(app, idleFlag);
    const backlog = Array.from({ length: 50 }, (_, n) => PulseCreated.create(`b-${n}`, { n }));
    await table.dataSource.transaction((m) => writer.repository.add(m, backlog));
    await eventually(
      () => app.relay.getStatus().publishedTotal === 50 && !app.relay.getStatus().running,
      { what: 'the backlog drained' },
    );
    // Busy while the batches came back full, idle again once it ran dry: both sent ahead of a
    // claim, in its message.
    expect(withClaim.mock.calls).toEqual([[false], [true]]);
    expect(advertise).not.toHaveBeenCalled();
    expect(await idleFlag()).toBe(1);
    expect((await table.counts()).pending).toBe(0);
  });

  it('a relay that starts while the flag is 0, with nothing to do, sets it and is woken', async () => {
    const { start, record, isPublished, idleFlag, setIdleFlag, listenerPid } = await setup();
    // As a relay stopped or killed right after a busy batch leaves it.
    await setIdleFlag(0);
    const app = await start();
    await eventually(listenerPid, { what: 'the relay listening' });
    await eventually(async () => (await idleFlag()) === 1, {
      what: 'the relay to tell writers to notify it',
    });
    // The cron never fires: only a notification can get this published.
    const event = await record(app, 'after-zero-flag');
    await eventually(() => isPublished(event.eventId), { what: 'the event published' });
  });

  it('sets the flag again on a cron tick after another relay left it at 0', async () => {
    const { start, idleFlag, setIdleFlag } = await setup();
    const app = await start();
    await listeningAndIdle(app);
    await setIdleFlag(0);
    await app.relay.tick();
    expect(await idleFlag()).toBe(1);
  });

  it('leaves the flag at 1 when it is stopped in the middle of a drain', async () => {
    const { table, start, idleFlag, listenerPid } = await setup();
    const writer = await start({ relayEnabled: false });
    const backlog = Array.from({ length: 2_000 }, (_, n) => PulseCreated.create(`p-${n}`, { n }));
    await table.dataSource.transaction((m) => writer.repository.add(m, backlog));
    // Small batches: the drain takes hundreds of batches, and the stop lands between two.
    const app = await start({ batchSize: 5, relayConcurrency: 1 });
    await eventually(listenerPid, { what: 'the relay listening' });
    await eventually(() => app.relay.getStatus().publishedTotal > 0, {
      what: 'the drain under way',
    });
    expect(await idleFlag()).toBe(0);
    await app.app.close();
    apps.splice(apps.indexOf(app), 1);
    expect((await table.counts()).pending).toBeGreaterThan(0);
    expect(await idleFlag()).toBe(1);
  });

  it('notifies only while the flag says idle, and never with the wake-up off', async () => {
    const { start, record, setIdleFlag, tap } = await setup();
    const notifications = await tap();
    try {
      const writer = await start({ relayEnabled: false });
      const quiet = await start({ relayEnabled: false, relayWakeup: 'off' });
      await setIdleFlag(0);
      await record(writer, 'busy');
      await setIdleFlag(1);
      await record(quiet, 'off');
      await record(writer, 'idle');
      await notifications.settle();
      expect(notifications.payloads).toEqual(['', 'sentinel']);
    } finally {
      await notifications.close();
    }
  });

  it('while it lingers after a drain, picks up new events by polling, and writers send no NOTIFY', async () => {
    const { start, record, isPublished, idleFlag, listenerPid, tap } = await setup();
    // Long enough that the second write surely lands inside the linger.
    const app = await start({ relayLingerMs: 10_000 });
    await eventually(listenerPid, { what: 'the relay listening' });
    const first = await record(app, 'first');
    await eventually(() => isPublished(first.eventId), { what: 'the first event published' });
    // The relay marks itself busy right after the batch's commit, which the test may see first.
    await eventually(async () => (await idleFlag()) === 0, { what: 'the relay polling, busy' });
    expect(await idleFlag()).toBe(0);

    const notifications = await tap();
    try {
      const second = await record(app, 'second');
      await eventually(() => isPublished(second.eventId), { what: 'the second event published' });
      await notifications.settle();
      expect(notifications.payloads).toEqual(['sentinel']);
    } finally {
      await notifications.close();
    }
  });

  it('listens again on the next tick after its connection is killed', async () => {
    const { table, start, record, isPublished, idleFlag, listenerPid } = await setup();
    const app = await start();
    const first = await eventually(listenerPid, { what: 'the relay listening' });
    await table.dataSource.query(`SELECT pg_terminate_backend($1)`, [first]);
    await eventually(async () => (await listenerPid()) !== first, { what: 'the listener gone' });
    // Ticks, as the cron would run them: the relay may notice the lost socket after the first.
    const second = await eventually(
      async () => {
        await app.relay.tick();
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
