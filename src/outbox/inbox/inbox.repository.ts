import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { qualifiedTableName } from '../config/sql-identifier.js';
import { InboxTableMissingError } from '../errors/inbox-table-missing.error.js';
import { runTableQuery } from '../table/run-outbox-query.js';
import { INBOX_OPTIONS } from './inbox.constants.js';
import type { ResolvedInboxOptions } from './inbox-options.interface.js';

/** Every SQL statement on the inbox table. */
@Injectable()
export class InboxRepository {
  private readonly table: string;

  constructor(@Inject(INBOX_OPTIONS) options: ResolvedInboxOptions) {
    this.table = qualifiedTableName(options.table, options.schema);
  }

  /**
   * Records that `consumer` processes `eventId`, in the caller's transaction. Resolves with
   * false when the row already exists. While another transaction holds the same key
   * uncommitted, PostgreSQL makes this insert wait: it then sees the row if that transaction
   * committed, and inserts it if that transaction rolled back.
   */
  async claim(manager: EntityManager, consumer: string, eventId: string): Promise<boolean> {
    const rows = await this.run<unknown[]>(
      manager,
      `INSERT INTO ${this.table} (consumer, event_id) VALUES ($1, $2)
       ON CONFLICT (consumer, event_id) DO NOTHING
       RETURNING 1`,
      [consumer, eventId],
    );
    return rows.length === 1;
  }

  /**
   * Deletes up to `limit` rows processed more than `olderThanMs` ago, oldest first. Rows
   * another purge has locked are skipped, so replicas purging at once do not queue up.
   */
  async purge(manager: EntityManager, olderThanMs: number, limit: number): Promise<number> {
    const [, count] = await this.run<[unknown[], number]>(
      manager,
      `DELETE FROM ${this.table}
        WHERE (consumer, event_id) IN (
              SELECT consumer, event_id FROM ${this.table}
               WHERE processed_at < now() - $1 * interval '1 millisecond'
               ORDER BY processed_at
               LIMIT $2
                 FOR UPDATE SKIP LOCKED)`,
      [olderThanMs, limit],
    );
    return count;
  }

  private run<T>(manager: EntityManager, sql: string, parameters: unknown[]): Promise<T> {
    return runTableQuery<T>(manager, sql, parameters, () => new InboxTableMissingError(this.table));
  }
}
