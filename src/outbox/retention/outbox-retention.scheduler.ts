import { Inject, Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { DataSource } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OUTBOX_DATA_SOURCE, OUTBOX_OPTIONS, OUTBOX_RETENTION_JOB } from '../outbox.constants.js';
import { OutboxDeadLetterRepository } from '../dead-letters/outbox-dead-letter.repository.js';
import { BatchedPurgeScheduler } from '../utils/batched-purge.scheduler.js';

/**
 * Deletes published rows older than `OUTBOX_RETENTION` on `OUTBOX_PURGE_CRON`, in statements
 * of `OUTBOX_PURGE_BATCH_SIZE` rows. Dead letters are never purged here. Runs where the relay
 * runs.
 */
@Injectable()
export class OutboxRetentionScheduler extends BatchedPurgeScheduler {
  constructor(
    @Inject(OUTBOX_OPTIONS) options: ResolvedOutboxOptions,
    @Inject(OUTBOX_DATA_SOURCE) dataSource: DataSource,
    registry: SchedulerRegistry,
    admin: OutboxDeadLetterRepository,
  ) {
    super(registry, {
      name: OUTBOX_RETENTION_JOB,
      cron: options.purgeCron,
      enabled: options.relayEnabled,
      rows: 'published events',
      logger: new Logger(OutboxRetentionScheduler.name),
      batchSize: options.purgeBatchSize,
      deleteBatch: (limit) => admin.purgePublished(dataSource.manager, options.retentionMs, limit),
    });
  }
}
