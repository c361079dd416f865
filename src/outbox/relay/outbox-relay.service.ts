import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OUTBOX_DATA_SOURCE, OUTBOX_OPTIONS } from '../outbox.constants.js';
import { OutboxRepository } from '../persistence/outbox.repository.js';
import { OutboxPublisher } from '../transport/outbox-publisher.js';
import { OUTBOX_TRANSPORT, type OutboxTransport } from '../transport/outbox-transport.js';
import { redactCredentials } from '../errors/redact-credentials.js';
import type { OutboxRelayStatus } from './outbox-relay-status.js';

interface BatchResult {
  readonly claimed: number;
  readonly published: number;
  readonly failures: readonly { readonly message: string }[];
}

/**
 * Moves events from the table to the broker: claim a batch, publish it with acknowledgement,
 * mark what was acknowledged, commit; repeat while full batches come back.
 * @publicApi
 */
@Injectable()
export class OutboxRelayService {
  private readonly logger = new Logger(OutboxRelayService.name);
  private inFlight: Promise<void> | undefined;
  private wokenDuringDrain = false;
  private stopping = false;
  private status: OutboxRelayStatus;

  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
    @Inject(OUTBOX_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(OUTBOX_TRANSPORT) private readonly transport: OutboxTransport,
    private readonly repository: OutboxRepository,
    private readonly publisher: OutboxPublisher,
  ) {
    this.status = {
      enabled: options.relayEnabled,
      running: false,
      since: new Date(),
      lastTickStartedAt: null,
      lastTickCompletedAt: null,
      lastProgressAt: null,
      ticksTotal: 0,
      publishedTotal: 0,
      failedPublishesTotal: 0,
      lastError: null,
    };
  }

  getStatus(): OutboxRelayStatus {
    return { ...this.status, running: this.inFlight !== undefined };
  }

  /**
   * Drains the backlog. Never runs twice at once in this process: a call during a drain
   * returns the running drain and makes it look once more before it ends, so an event
   * committed meanwhile is not left for the next tick. Never rejects; errors are logged
   * once per drain.
   */
  drain(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.inFlight) {
      this.wokenDuringDrain = true;
      return this.inFlight;
    }
    this.inFlight = this.drainLoop().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** No batch starts after this; the one in flight finishes. */
  requestStop(): void {
    this.stopping = true;
  }

  /**
   * Lets the batch in flight finish and be marked, then refuses further drains. Waits at most
   * `shutdownTimeoutMs`: giving up then costs duplicates (the batch rolls back and is
   * published again), never a lost event.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    if (!this.inFlight) return;
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.options.shutdownTimeoutMs);
    });
    const finished = this.inFlight.then(() => false);
    if (await Promise.race([finished, gaveUp])) {
      this.logger.warn(
        `Batch in flight still running after ${this.options.shutdownTimeoutMs} ms; it will roll back and be published again`,
      );
    }
    clearTimeout(timer);
  }

  private async drainLoop(): Promise<void> {
    this.status = { ...this.status, lastTickStartedAt: new Date() };
    let lastError: string | null = null;
    try {
      await this.transport.prepare();
      for (;;) {
        this.wokenDuringDrain = false;
        const batch = await this.relayBatch();
        if (batch.failures.length > 0) {
          // One line per drain, not per event: an outage must not flood the log.
          lastError = `${batch.failures.length} of ${batch.claimed} events not acknowledged and left pending; first: ${redactCredentials(batch.failures[0].message)}`;
          this.logger.error(lastError);
          // The stream may have been deleted or changed: check it again next time.
          this.transport.invalidate();
          break;
        }
        const full = batch.claimed === this.options.batchSize;
        if (this.stopping || (!full && !this.wokenDuringDrain)) break;
      }
    } catch (error) {
      lastError = `Relay tick failed: ${redactCredentials(error instanceof Error ? error.message : String(error))}`;
      this.logger.error(lastError);
    } finally {
      this.status = {
        ...this.status,
        lastTickCompletedAt: new Date(),
        ticksTotal: this.status.ticksTotal + 1,
        lastError,
      };
    }
  }

  private async relayBatch(): Promise<BatchResult> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      await this.repository.limitTransaction(runner.manager, this.lockHoldLimitMs());
      const claimed = await this.repository.claim(runner.manager, this.options.batchSize);
      const outcomes = claimed.length > 0 ? await this.publisher.publishAll(claimed) : [];
      const acknowledged = outcomes.filter((o) => o.ok).map((o) => o.id);
      await this.repository.markPublished(runner.manager, acknowledged);
      // A crash before this commit leaves acknowledged rows pending: they are published again
      // and the broker drops the copy by event id. That is the at-least-once in the guarantee.
      await runner.commitTransaction();
      const failures = outcomes.flatMap((o) => (o.ok ? [] : [o.error]));
      this.status = {
        ...this.status,
        lastProgressAt: new Date(),
        publishedTotal: this.status.publishedTotal + acknowledged.length,
        failedPublishesTotal: this.status.failedPublishesTotal + failures.length,
      };
      return { claimed: claimed.length, published: acknowledged.length, failures };
    } catch (error) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release();
    }
  }

  /**
   * How long the claim transaction may live. A relay that freezes or loses its network while
   * holding the row locks is cut off by PostgreSQL after this, so other replicas can take the
   * rows; its late mark then fails and its batch is simply published again.
   */
  private lockHoldLimitMs(): number {
    return this.options.publishTimeoutMs * 2 + 10_000;
  }
}
