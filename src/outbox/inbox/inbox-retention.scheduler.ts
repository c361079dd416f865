import { Inject, Injectable, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { DataSource } from 'typeorm';
import { BatchedPurgeScheduler } from '../utils/batched-purge.scheduler.js';
import { INBOX_DATA_SOURCE, INBOX_OPTIONS, INBOX_RETENTION_JOB } from './inbox.constants.js';
import type { ResolvedInboxOptions } from './inbox-options.interface.js';
import { InboxRepository } from './inbox.repository.js';

/**
 * Deletes inbox rows older than `OUTBOX_INBOX_RETENTION` on `OUTBOX_INBOX_PURGE_CRON`, in
 * statements of `OUTBOX_INBOX_PURGE_BATCH_SIZE` rows, in every process that imports the
 * module (replicas skip each other's locked rows).
 * @publicApi
 */
@Injectable()
export class InboxRetentionScheduler extends BatchedPurgeScheduler {
  constructor(
    @Inject(INBOX_OPTIONS) options: ResolvedInboxOptions,
    @Inject(INBOX_DATA_SOURCE) dataSource: DataSource,
    registry: SchedulerRegistry,
    inbox: InboxRepository,
  ) {
    super(registry, {
      name: INBOX_RETENTION_JOB,
      cron: options.purgeCron,
      enabled: true,
      rows: 'inbox rows',
      logger: new Logger(InboxRetentionScheduler.name),
      batchSize: options.purgeBatchSize,
      deleteBatch: (limit) => inbox.purge(dataSource.manager, options.retentionMs, limit),
    });
  }
}
