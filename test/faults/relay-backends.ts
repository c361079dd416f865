import type { DataSource } from 'typeorm';

/** Inside a claim transaction, holding the ROW SHARE lock its `FOR UPDATE` took. */
const HOLDING_CLAIM = `a.state = 'idle in transaction' AND l.mode = 'RowShareLock' AND l.granted`;

/**
 * A relay's PostgreSQL sessions as the server sees them, found by the application name the
 * relay connects with: which of them is inside a batch, which waits to mark one; and ending them.
 */
export class RelayBackends {
  constructor(
    private readonly dataSource: DataSource,
    private readonly table: string,
    readonly applicationName: string,
  ) {}

  /** Sessions that claimed a batch and are publishing it. */
  async holdingClaim(): Promise<number[]> {
    return (await this.select<{ pid: number }>('a.pid', HOLDING_CLAIM)).map((r) => r.pid);
  }

  /** Terminates every session of the relay; one row per session, with whether it ended. */
  terminateAll(): Promise<{ pid: number; terminated: boolean }[]> {
    return this.dataSource.query(
      `SELECT pid, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
        WHERE application_name = $1`,
      [this.applicationName],
    );
  }

  /** Sessions whose mark (an UPDATE, ROW EXCLUSIVE) waits for a lock on the table. */
  async waitingToMark(): Promise<number[]> {
    return (
      await this.select<{ pid: number }>(
        'a.pid',
        `a.query ILIKE 'UPDATE%' AND l.mode = 'RowExclusiveLock' AND NOT l.granted`,
      )
    ).map((r) => r.pid);
  }

  private select<T>(columns: string, condition: string): Promise<T[]> {
    return this.dataSource.query<T[]>(
      `SELECT ${columns} FROM pg_stat_activity a
        WHERE a.application_name = $1 AND EXISTS (
              SELECT FROM pg_locks l
               WHERE l.pid = a.pid AND l.locktype = 'relation'
                 AND l.relation = to_regclass($2) AND ${condition})`,
      [this.applicationName, `"${this.table}"`],
    );
  }
}
