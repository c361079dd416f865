import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The example service's read model, kept by its own `submission.received` consumer: one row
 * per pulse that received submissions.
 */
export class CreatePulseStats1732500000001 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE IF NOT EXISTS pulse_stats (
        pulse_id         uuid    PRIMARY KEY REFERENCES learning_pulse (id),
        submission_count integer NOT NULL
      )`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE IF EXISTS pulse_stats`);
  }
}
