import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { DataSource } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OUTBOX_DATA_SOURCE, OUTBOX_OPTIONS } from '../outbox.constants.js';
import { OutboxRepository, type OutboxBacklog } from '../persistence/outbox.repository.js';
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
    private readonly repository: OutboxRepository,
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
        this.repository.backlog(this.dataSource.manager, this.options.healthCountCap),
        this.options.healthTimeoutMs,
      );
    } catch (error) {
      return indicator.down({ message: error instanceof Error ? error.message : String(error) });
    }

    const { healthBacklogWarn, healthBacklogMax, healthLagWarnMs, healthLagMaxMs } = this.options;
    const age = backlog.oldestPendingAgeMs ?? 0;
    const problems: string[] = [];
    const over = (value: number, limit: number | undefined, what: string) => {
      if (limit === undefined || value <= limit) return false;
      problems.push(`${what} over ${limit}`);
      return true;
    };
    const down =
      over(backlog.pending, healthBacklogMax, 'pending events') ||
      over(age, healthLagMaxMs, 'oldest pending age (ms)');
    const degraded =
      !down &&
      (over(backlog.pending, healthBacklogWarn, 'pending events') ||
        over(age, healthLagWarnMs, 'oldest pending age (ms)'));

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
