import type { DataSource } from 'typeorm';

/**
 * A relay's PostgreSQL sessions as the server sees them, found by the application name the
 * relay connects with: which of them is inside a batch, and which waits to mark one.
 */
export class RelayBackends {
  constructor(
    private readonly dataSource: DataSource,
    private readonly table: string,
    readonly applicationName: string,
  ) {}

  /**
   * Sessions that claimed a batch and are publishing it: idle in their claim transaction,
   * holding the ROW SHARE lock a `FOR UPDATE` claim takes on the table.
   */
  holdingClaim(): Promise<number[]> {
    return this.pids(`a.state = 'idle in transaction' AND l.mode = 'RowShareLock' AND l.granted`);
  }

  /** Sessions whose mark (an UPDATE, ROW EXCLUSIVE) waits for a lock on the table. */
  waitingToMark(): Promise<number[]> {
    return this.pids(`a.query ILIKE 'UPDATE%' AND l.mode = 'RowExclusiveLock' AND NOT l.granted`);
  }

  private async pids(condition: string): Promise<number[]> {
    const rows = await this.dataSource.query<{ pid: number }[]>(
      `SELECT DISTINCT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
        WHERE a.application_name = $1 AND l.locktype = 'relation'
          AND l.relation = to_regclass($2) AND ${condition}`,
      [this.applicationName, `"${this.table}"`],
    );
    return rows.map((r) => r.pid);
  }
}
