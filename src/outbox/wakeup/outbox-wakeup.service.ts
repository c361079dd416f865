import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver.js';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { quoteIdentifier } from '../config/sql-identifier.js';
import { errorMessage } from '../errors/error-text.js';
import { OUTBOX_DATA_SOURCE, OUTBOX_OPTIONS } from '../outbox.constants.js';
import { relayIdleSequence, wakeupChannel } from '../wakeup/wakeup.sql.js';

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

/**
 * The relay's LISTEN/NOTIFY side: one dedicated connection that listens on the table's
 * channel, and the idle flag writers read to decide whether to notify. Best effort by design:
 * while it is not listening, the cron tick still drains everything, only later.
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

  /**
   * Starts listening unless it already does or is about to; never throws and never waits,
   * so the relay's tick can call it every time and a lost connection is retried on the next.
   */
  ensureListening(handlers: WakeupHandlers): void {
    if (!this.enabled || this.stopped || this.client || this.connecting) return;
    if (!this.dataSource.isInitialized) return;
    this.connecting = this.listen(handlers).finally(() => {
      this.connecting = undefined;
    });
  }

  /**
   * Tells writers whether to notify (true: a relay waits for one). Not transactional: every
   * writer sees the new value from its next statement on.
   */
  async advertiseIdle(idle: boolean): Promise<void> {
    await this.dataSource.query(`SELECT setval($1::regclass, $2)`, [
      this.idleSequence,
      idle ? 1 : 0,
    ]);
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
    try {
      const driver = this.dataSource.driver as PostgresDriver;
      [client, release] = (await driver.obtainMasterConnection()) as [
        ListeningClient,
        (error?: unknown) => void,
      ];
      // A checked-out pg client that errors without a listener would crash the process.
      client.on('error', (error) => this.lost(error));
      client.on('end', () => this.lost('connection ended'));
      client.on('notification', () => onWake());
      await client.query(`LISTEN ${quoteIdentifier(this.channel)}`);
      if (this.stopped) throw new Error('stopped');
      this.client = client;
      this.release = release;
      this.warned = false;
      this.logger.log(`Listening for new events on channel ${this.channel}`);
      // Events committed before LISTEN took effect sent no notification: look once.
      onListening();
    } catch (error) {
      client?.removeAllListeners();
      client?.on('error', () => undefined);
      release?.(error instanceof Error ? error : new Error(String(error)));
      if (!this.stopped && !this.warned) {
        this.warned = true;
        this.logger.warn(
          `Cannot listen for new events (${errorMessage(error)}); the cron tick still drains`,
        );
      }
    }
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
