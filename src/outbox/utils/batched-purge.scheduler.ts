import type { BeforeApplicationShutdown, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { errorMessage } from '../errors/error-text.js';
import { scheduleJob, unscheduleJob } from './scheduled-job.js';

/** Statements per purge run: a huge backlog of old rows is worked off over several runs. */
const MAX_BATCHES_PER_RUN = 100;

/** What a retention purge deletes, how, and when. */
export interface BatchedPurgeJob {
  /** The job's name in `SchedulerRegistry`. */
  readonly name: string;
  readonly cron: string;
  /** False: no job is scheduled; `purge()` still works. */
  readonly enabled: boolean;
  /** What is deleted, for the log: "published events", "inbox rows". */
  readonly rows: string;
  readonly logger: Logger;
  readonly batchSize: number;
  /** Deletes up to `limit` rows; resolves with how many it deleted. */
  readonly deleteBatch: (limit: number) => Promise<number>;
}

/**
 * A retention purge on a cron job registered through `SchedulerRegistry` (`@Cron()` reads its
 * expression at import time, before configuration is known). Each run deletes in statements
 * of `batchSize` rows until one deletes fewer, at most 100 statements, so no statement holds
 * many locks or writes much WAL. Runs never overlap; a failure is logged, never thrown, and
 * the next run tries again. Shutdown waits for a run in progress.
 */
export abstract class BatchedPurgeScheduler
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private running: Promise<number> | undefined;

  protected constructor(
    private readonly registry: SchedulerRegistry,
    private readonly job: BatchedPurgeJob,
  ) {}

  onApplicationBootstrap(): void {
    if (this.job.enabled)
      scheduleJob(this.registry, this.job.name, this.job.cron, () => this.purge());
  }

  /** One purge run; resolves with the number of rows deleted. Never rejects. */
  purge(): Promise<number> {
    this.running ??= this.purgeBatches().finally(() => (this.running = undefined));
    return this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await unscheduleJob(this.registry, this.job.name);
    await this.running;
  }

  private async purgeBatches(): Promise<number> {
    const { rows, logger, batchSize, deleteBatch } = this.job;
    let total = 0;
    try {
      for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
        const deleted = await deleteBatch(batchSize);
        total += deleted;
        if (deleted < batchSize) break;
      }
      if (total > 0) logger.log(`Purged ${total} ${rows} older than retention`);
    } catch (error) {
      logger.error(`Purge of ${rows} failed: ${errorMessage(error)}`);
    }
    return total;
  }
}
