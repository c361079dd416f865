import type { DataSource, QueryRunner } from 'typeorm';

/**
 * Holds the outbox table in SHARE mode from a transaction of the test's own. A relay's claim
 * (`FOR UPDATE`, ROW SHARE) still passes and its batch is published, but its mark (an
 * UPDATE, ROW EXCLUSIVE) waits: a relay killed then has had its batch acknowledged by the
 * broker and never committed that. It is the crash between PubAck and commit, made certain.
 */
export class HeldMarks {
  private constructor(private readonly runner: QueryRunner) {}

  static async hold(dataSource: DataSource, table: string): Promise<HeldMarks> {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    await runner.startTransaction();
    await runner.query(`LOCK TABLE "${table}" IN SHARE MODE`);
    return new HeldMarks(runner);
  }

  async release(): Promise<void> {
    if (this.runner.isReleased) return;
    await this.runner.rollbackTransaction().catch(() => undefined);
    await this.runner.release();
  }
}
