import type { EntityManager } from 'typeorm';
import { OutboxTableMissingError } from '../errors/outbox-table-missing.error.js';

const UNDEFINED_TABLE = '42P01';

/** Runs SQL on the outbox table; a missing table becomes `OutboxTableMissingError`. */
export function runOutboxQuery<T = unknown>(
  manager: EntityManager,
  table: string,
  sql: string,
  parameters?: unknown[],
): Promise<T> {
  return runTableQuery<T>(manager, sql, parameters, () => new OutboxTableMissingError(table));
}

/**
 * Runs SQL on one of this library's tables; PostgreSQL's "undefined table" becomes the error
 * `missingTable` returns, which names the migration to run.
 */
export async function runTableQuery<T = unknown>(
  manager: EntityManager,
  sql: string,
  parameters: unknown[] | undefined,
  missingTable: () => Error,
): Promise<T> {
  try {
    return await manager.query<T>(sql, parameters);
  } catch (error) {
    throw isUndefinedTable(error) ? missingTable() : error;
  }
}

/** PostgreSQL's "undefined table": a migration has not run. */
export function isUndefinedTable(error: unknown): boolean {
  return sqlState(error) === UNDEFINED_TABLE;
}

/** PostgreSQL's SQLSTATE of an error from TypeORM (`driverError`) or from pg itself. */
export function sqlState(error: unknown): string | undefined {
  const e = error as { code?: string; driverError?: { code?: string } };
  return e?.driverError?.code ?? e?.code;
}
