import type { MigrationInterface, QueryRunner } from 'typeorm';
import { quoteIdentifier } from '../config/sql-identifier.js';

/** A TypeORM migration class, for a DataSource's `migrations`. @publicApi */
export type OutboxMigrationClass = new () => MigrationInterface & { readonly name: string };

/** What a table migration needs: its name, where the table goes, and its DDL. */
export interface TableMigrationSpec {
  readonly name: string;
  /** Resolved when the migration runs, not when it is built (see createTableMigration). */
  readonly target: () => { table: string; schema?: string };
  readonly create: (table: string, schema?: string) => string[];
  readonly drop: (table: string, schema?: string) => string;
}

/**
 * A migration that creates the schema when missing, then the table, and drops the table on
 * revert. The target is read when the migration runs: the migrations list is usually built at
 * import time, before the environment of a test or a CLI run is final.
 */
export function createTableMigration(spec: TableMigrationSpec): OutboxMigrationClass {
  return class TableMigration implements MigrationInterface {
    // TypeORM records a migration by `name`, falling back to its class name.
    readonly name = spec.name;

    async up(runner: QueryRunner): Promise<void> {
      const { table, schema } = spec.target();
      if (schema) await runner.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
      for (const statement of spec.create(table, schema)) await runner.query(statement);
    }

    async down(runner: QueryRunner): Promise<void> {
      const { table, schema } = spec.target();
      await runner.query(spec.drop(table, schema));
    }
  };
}
