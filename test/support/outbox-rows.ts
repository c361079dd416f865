import type { TestOutboxTable } from './outbox-table.js';

/** The relay's bookkeeping on one outbox row. */
export interface OutboxRowState {
  readonly attempts: number;
  readonly failed_at: Date | null;
  readonly published_at: Date | null;
  readonly next_attempt_at: Date;
  readonly last_error: string | null;
}

/** The bookkeeping of the row of `eventId`, or undefined when there is no such row. */
export async function rowState(
  table: TestOutboxTable,
  eventId: string,
): Promise<OutboxRowState | undefined> {
  const [row] = await table.dataSource.query<OutboxRowState[]>(
    `SELECT attempts, failed_at, published_at, next_attempt_at, last_error
       FROM "${table.table}" WHERE event_id = $1`,
    [eventId],
  );
  return row;
}
