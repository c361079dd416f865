import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OUTBOX_DATA_SOURCE, OUTBOX_OPTIONS } from '../outbox.constants.js';
import { OutboxBacklogReader, type OutboxBacklog } from '../table/outbox-backlog.reader.js';
import { errorMessage } from '../errors/error-text.js';
import { withTimeout } from '../utils/with-timeout.js';

/**
 * Backlog depth, age of the oldest pending event and dead-letter count, against the
 * configured thresholds: over a warn threshold `degraded` (HTTP 200), over a max `down`.
 * Belongs in readiness or an alerting endpoint, never in liveness.
 * @publicApi
 */
@Injectable()
export class OutboxBacklogHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly reader: OutboxBacklogReader,
    @Inject(OUTBOX_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
  ) {}

  async isHealthy<const Key extends string = 'outbox_backlog'>(
    key: Key = 'outbox_backlog' as Key,
  ): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.health.check(key);
    let backlog: OutboxBacklog;
    try {
      if (!this.dataSource.isInitialized) throw new Error('database not connected yet');
      backlog = await withTimeout(
        this.reader.backlog(this.dataSource.manager, this.options.healthCountCap),
        this.options.healthTimeoutMs,
      );
    } catch (error) {
      return indicator.down({ message: errorMessage(error) });
    }

    const { healthBacklogWarn, healthBacklogMax, healthLagWarnMs, healthLagMaxMs } = this.options;
    const measures = [
      {
        what: 'pending events',
        value: backlog.pending,
        warn: healthBacklogWarn,
        max: healthBacklogMax,
      },
      {
        what: 'oldest pending age (ms)',
        value: backlog.oldestPendingAgeMs ?? 0,
        warn: healthLagWarnMs,
        max: healthLagMaxMs,
      },
    ];
    // Every measure is reported, the worst one decides the status.
    const problems: string[] = [];
    let down = false;
    let degraded = false;
    for (const { what, value, warn, max } of measures) {
      if (max !== undefined && value > max) {
        down = true;
        problems.push(`${what} over ${max}`);
      } else if (warn !== undefined && value > warn) {
        degraded = true;
        problems.push(`${what} over ${warn}`);
      }
    }

    const details = {
      pending: backlog.pending,
      ...(backlog.pendingCapped && { pendingAtLeast: true }),
      oldestPendingAgeMs: backlog.oldestPendingAgeMs,
      failed: backlog.failed,
      thresholds: {
        backlogWarn: healthBacklogWarn ?? null,
        backlogMax: healthBacklogMax ?? null,
        lagWarnMs: healthLagWarnMs ?? null,
        lagMaxMs: healthLagMaxMs ?? null,
      },
      ...(problems.length > 0 && { message: problems.join('; ') }),
    };
    if (down) return indicator.down(details);
    if (degraded) return indicator.degraded(details);
    return indicator.up(details);
  }
}
