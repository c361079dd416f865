import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The example EduPulse service's own tables. */
export class CreateEdupulseTables1732300000001 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`
      CREATE TABLE IF NOT EXISTS learning_pulse (
        id         uuid PRIMARY KEY,
        title      text        NOT NULL,
        summary    text,
        author_id  text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`
      CREATE TABLE IF NOT EXISTS submission (
        id         uuid PRIMARY KEY,
        pulse_id   uuid        NOT NULL REFERENCES learning_pulse (id),
        student_id text        NOT NULL,
        answer     text,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await runner.query(`CREATE INDEX IF NOT EXISTS submission_pulse_idx ON submission (pulse_id)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE IF EXISTS submission`);
    await runner.query(`DROP TABLE IF EXISTS learning_pulse`);
  }
}
