import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { scheduleJob, unscheduleJob } from '../utils/scheduled-job.js';
import type { DataSource } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { errorMessage } from '../errors/error-text.js';
import { OUTBOX_DATA_SOURCE, OUTBOX_OPTIONS, OUTBOX_RETENTION_JOB } from '../outbox.constants.js';
import { OutboxAdminRepository } from '../persistence/outbox-admin.repository.js';

/** Statements per purge run: a huge backlog of old rows is worked off over several runs. */
const MAX_BATCHES_PER_RUN = 100;

/**
 * Deletes published rows older than `OUTBOX_RETENTION` on `OUTBOX_PURGE_CRON`, in statements
 * of `OUTBOX_PURGE_BATCH_SIZE` rows. Dead letters are never purged here. Runs where the relay
 * runs.
 */
@Injectable()
export class OutboxRetentionScheduler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OutboxRetentionScheduler.name);
  private running: Promise<number> | undefined;

  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
    @Inject(OUTBOX_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly registry: SchedulerRegistry,
    private readonly admin: OutboxAdminRepository,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.options.relayEnabled) return;
    scheduleJob(this.registry, OUTBOX_RETENTION_JOB, this.options.purgeCron, () => this.purge());
  }

  /** One purge run; resolves with the number of rows deleted. Never rejects. */
  purge(): Promise<number> {
    this.running ??= this.purgeBatches().finally(() => (this.running = undefined));
    return this.running;
  }

  async beforeApplicationShutdown(): Promise<void> {
    await unscheduleJob(this.registry, OUTBOX_RETENTION_JOB);
    await this.running;
  }

  private async purgeBatches(): Promise<number> {
    const { retentionMs, purgeBatchSize } = this.options;
    let total = 0;
    try {
      for (let i = 0; i < MAX_BATCHES_PER_RUN; i++) {
        const deleted = await this.admin.purgePublished(
          this.dataSource.manager,
          retentionMs,
          purgeBatchSize,
        );
        total += deleted;
        if (deleted < purgeBatchSize) break;
      }
      if (total > 0) this.logger.log(`Purged ${total} published events older than retention`);
    } catch (error) {
      this.logger.error(`Retention purge failed: ${errorMessage(error)}`);
    }
    return total;
  }
}
