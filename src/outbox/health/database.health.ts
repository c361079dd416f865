import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OUTBOX_DATA_SOURCE, OUTBOX_OPTIONS } from '../outbox.constants.js';

/**
 * The outbox's database answers `SELECT 1` within the probe timeout. For readiness.
 * @publicApi
 */
@Injectable()
export class OutboxDatabaseHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(OUTBOX_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
  ) {}

  isHealthy<const Key extends string = 'outbox_database'>(key: Key = 'outbox_database' as Key) {
    return this.health
      .check(key)
      .attempt(async () => {
        if (!this.dataSource.isInitialized) throw new Error('not connected yet');
        await this.dataSource.query('SELECT 1');
      })
      .withTimeout(this.options.healthTimeoutMs);
  }
}
