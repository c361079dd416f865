import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { qualifiedTableName } from '../config/sql-identifier.js';
import { OUTBOX_OPTIONS } from '../outbox.constants.js';
import { runOutboxQuery } from './run-outbox-query.js';

/** Backlog figures as the health indicators see them. @publicApi */
export interface OutboxBacklog {
  /** Pending events, counted up to the cap. */
  readonly pending: number;
  /** True when the count stopped at the cap: there are at least `pending`. */
  readonly pendingCapped: boolean;
  /** Age of the oldest pending event (database clock), or null without backlog. */
  readonly oldestPendingAgeMs: number | null;
  /** Events that gave up (dead letters), counted up to the cap. */
  readonly failed: number;
}

/** Reads the backlog for health and metrics. */
@Injectable()
export class OutboxBacklogReader {
  private readonly table: string;

  constructor(@Inject(OUTBOX_OPTIONS) options: ResolvedOutboxOptions) {
    this.table = qualifiedTableName(options.table, options.schema);
  }

  /**
   * Pending count, age of the oldest pending row and dead-letter count. Every part reads a
   * partial index and stops at `cap` rows, so the cost does not grow with the table.
   */
  async backlog(manager: EntityManager, cap: number): Promise<OutboxBacklog> {
    const [row] = await runOutboxQuery<
      { pending: number; oldest_age_ms: number | null; failed: number }[]
    >(
      manager,
      this.table,
      `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM ${this.table}
                WHERE published_at IS NULL AND failed_at IS NULL LIMIT $1) p) AS pending,
              (SELECT (extract(epoch FROM now() - created_at) * 1000)::float8 FROM ${this.table}
                WHERE published_at IS NULL AND failed_at IS NULL ORDER BY id LIMIT 1) AS oldest_age_ms,
              (SELECT count(*)::int FROM (SELECT 1 FROM ${this.table}
                WHERE failed_at IS NOT NULL LIMIT $1) f) AS failed`,
      [cap],
    );
    return {
      pending: row.pending,
      pendingCapped: row.pending >= cap,
      oldestPendingAgeMs:
        row.oldest_age_ms === null ? null : Math.max(0, Math.round(row.oldest_age_ms)),
      failed: row.failed,
    };
  }
}
