import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { quoteIdentifier } from '../config/sql-identifier.js';
import { errorMessage } from '../errors/error-text.js';
import { OUTBOX_DATA_SOURCE, OUTBOX_OPTIONS } from '../outbox.constants.js';
import { relayIdleSequence, wakeupChannel } from './wakeup.sql.js';

/** The part of a `pg` client the listener uses. */
interface ListeningClient {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
  on(event: 'notification' | 'error' | 'end', listener: (arg?: unknown) => void): unknown;
  removeAllListeners(event?: string): unknown;
}

/** What the listener calls in the relay. */
export interface WakeupHandlers {
  /** A writer's notification arrived. */
  readonly onWake: () => void;
  /**
   * LISTEN took effect: look for events committed before it, and tell writers to notify from
   * now on, whatever the shared flag holds.
   */
  readonly onListening: () => void;
}

/** How the wake-up is doing, for health output. */
export interface WakeupState {
  readonly mode: 'notify' | 'off';
  readonly listening: boolean;
  /** Set while notifications do not come back: the relay runs on its cron tick alone. */
  readonly degraded?: string;
}

/** How long the self-check waits for its own notification. */
const SELF_CHECK_MS = 1_000;
/**
 * Failed self-checks in a row before the wake-up calls itself degraded: one slow round trip
 * on a loaded machine is not a proxy. The next tick retries until then.
 */
const FAILED_CHECKS_TO_DEGRADE = 2;
/** How long after it is degraded the wake-up tries again. */
const RETRY_WHEN_DEGRADED_MS = 60_000;

/**
 * The relay's LISTEN/NOTIFY side, in one place with the SQL beside it (wakeup.sql.ts): one
 * dedicated connection that listens on the table's channel, and the idle flag writers read to
 * decide whether to notify. Best effort by design: while it is not listening, the cron tick
 * still drains everything, only later.
 *
 * Whenever it starts listening it checks itself: a notification sent through the
 * application's own connections must come back on the listening one. Behind a
 * transaction-pooling proxy (PgBouncer in transaction mode) it does not, because the proxy
 * hands the server connection that ran LISTEN to other clients; the wake-up then reports
 * itself degraded, names `OUTBOX_WAKEUP_DATABASE_URL` (a direct, session-capable URL used
 * only for LISTEN) and leaves the relaying to the cron tick.
 */
@Injectable()
export class OutboxWakeupService {
  private readonly logger = new Logger(OutboxWakeupService.name);
  private readonly channel: string;
  private readonly idleSequence: string;
  private client: ListeningClient | undefined;
  private release: ((error?: unknown) => void) | undefined;
  private connecting: Promise<void> | undefined;
  private stopped = false;
  private warned = false;
  private degraded: string | undefined;
  private failedChecks = 0;
  private retryAt = 0;

  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
    @Inject(OUTBOX_DATA_SOURCE) private readonly dataSource: DataSource,
  ) {
    this.channel = wakeupChannel(options.table, options.schema);
    this.idleSequence = relayIdleSequence(options.table, options.schema);
  }

  get enabled(): boolean {
    return this.options.relayWakeup === 'notify';
  }

  /** True once notifications arrive; the relay only advertises idleness then. */
  get listening(): boolean {
    return this.client !== undefined;
  }

  state(): WakeupState {
    return {
      mode: this.options.relayWakeup,
      listening: this.listening,
      ...(this.degraded && { degraded: this.degraded }),
    };
  }

  /**
   * Starts listening unless it already does or is about to; never throws and never waits,
   * so the relay's tick can call it every time and a lost connection is retried on the next.
   */
  ensureListening(handlers: WakeupHandlers): void {
    if (!this.enabled || this.stopped || this.client || this.connecting) return;
    if (!this.dataSource.isInitialized || Date.now() < this.retryAt) return;
    this.connecting = this.listen(handlers).finally(() => {
      this.connecting = undefined;
    });
  }

  /**
   * Tells writers whether to notify (true: a relay waits for one). Not transactional: every
   * writer sees the new value from its next statement on.
   */
  async advertiseIdle(idle: boolean): Promise<void> {
    await this.dataSource.query(this.advertiseIdleStatement(idle));
  }

  /**
   * `advertiseIdle()` as a statement to send ahead of others in one message: the relay's claim
   * carries it, so telling writers costs no round trip of its own. The sequence's name is a
   * checked identifier, so it can stand in a literal.
   */
  advertiseIdleStatement(idle: boolean): string {
    return `SELECT setval('${this.idleSequence}'::regclass, ${idle ? 1 : 0});\n`;
  }

  /** Releases the connection; called before the DataSource closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.connecting;
    // The idle flag is left as it is: another replica may be the one waiting on it.
    this.drop();
  }

  private async listen({ onWake, onListening }: WakeupHandlers): Promise<void> {
    let client: ListeningClient | undefined;
    let release: ((error?: unknown) => void) | undefined;
    const token = `outbox-self-check:${randomUUID()}`;
    let checked: (() => void) | undefined;
    try {
      [client, release] = await this.connect();
      // A checked-out pg client that errors without a listener would crash the process.
      client.on('error', (error) => this.lost(error));
      client.on('end', () => this.lost('connection ended'));
      client.on('notification', (notification) => {
        if ((notification as { payload?: string } | undefined)?.payload === token) checked?.();
        else onWake();
      });
      await client.query(`LISTEN ${quoteIdentifier(this.channel)}`);
      if (this.stopped) throw new Error('stopped');
      const cameBack = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), SELF_CHECK_MS);
        checked = () => {
          clearTimeout(timer);
          resolve(true);
        };
      });
      // Through the application's own connections, as a writer's notification travels.
      await this.dataSource.query(`SELECT pg_notify($1, $2)`, [this.channel, token]);
      if (!(await cameBack)) throw new SelfCheckFailed();
      this.client = client;
      this.release = release;
      this.warned = false;
      this.degraded = undefined;
      this.failedChecks = 0;
      this.logger.log(`Listening for new events on channel ${this.channel}`);
      // Events committed before LISTEN took effect sent no notification: look once.
      onListening();
    } catch (error) {
      client?.removeAllListeners();
      client?.on('error', () => undefined);
      release?.(error instanceof Error ? error : new Error(String(error)));
      if (error instanceof SelfCheckFailed) {
        if (++this.failedChecks < FAILED_CHECKS_TO_DEGRADE) return;
        this.retryAt = Date.now() + RETRY_WHEN_DEGRADED_MS;
        this.degraded = `notifications do not come back on the listening connection; relaying on the cron tick (${this.options.relayCron})`;
        if (!this.warned) {
          this.warned = true;
          this.logger.warn(
            `Wake-up self-check failed: a notification sent on channel ${this.channel} did not come back within ${SELF_CHECK_MS} ms, ${this.failedChecks} times in a row. ` +
              `The listening connection is likely behind a transaction-pooling proxy (PgBouncer in transaction mode). ` +
              `Set OUTBOX_WAKEUP_DATABASE_URL (relay.wakeupDatabaseUrl) to a direct, session-capable URL; until then the relay runs on its cron tick.`,
          );
        }
      } else if (!this.stopped && !this.warned) {
        this.warned = true;
        this.logger.warn(
          `Cannot listen for new events (${errorMessage(error)}); the cron tick still drains`,
        );
      }
    }
  }

  /**
   * The listening connection: one of its own on `relay.wakeupDatabaseUrl` when set (it must
   * reach PostgreSQL in session mode), else one taken out of the DataSource's pool.
   */
  private async connect(): Promise<[ListeningClient, (error?: unknown) => void]> {
    const url = this.options.wakeupDatabaseUrl;
    if (url) {
      const client = new Client({ connectionString: url, application_name: 'outbox-wakeup' });
      await client.connect();
      return [client, () => void client.end().catch(() => undefined)];
    }
    const driver = this.dataSource.driver as PostgresDriver;
    return (await driver.obtainMasterConnection()) as [ListeningClient, (error?: unknown) => void];
  }

  private lost(reason: unknown): void {
    if (!this.client) return;
    this.logger.warn(`Wake-up connection lost (${errorMessage(reason)}); retrying on next tick`);
    this.drop(new Error('wake-up connection lost'));
  }

  private drop(error?: Error): void {
    const { client, release } = this;
    this.client = undefined;
    this.release = undefined;
    client?.removeAllListeners();
    // pg emits 'error' on a dead socket even after we stop caring.
    client?.on('error', () => undefined);
    // Destroy rather than return it to the pool: it is still LISTENing.
    release?.(error ?? new Error('wake-up listener closed'));
  }
}

class SelfCheckFailed extends Error {}
