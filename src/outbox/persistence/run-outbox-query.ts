import type { EntityManager } from 'typeorm';
import { OutboxTableMissingError } from '../errors/outbox-table-missing.error.js';

const UNDEFINED_TABLE = '42P01';

/** Runs SQL on the outbox table; a missing table becomes `OutboxTableMissingError`. */
export async function runOutboxQuery<T = unknown>(
  manager: EntityManager,
  table: string,
  sql: string,
  parameters?: unknown[],
): Promise<T> {
  try {
    return await manager.query<T>(sql, parameters);
  } catch (error) {
    if (sqlState(error) === UNDEFINED_TABLE) throw new OutboxTableMissingError(table);
    throw error;
  }
}

function sqlState(error: unknown): string | undefined {
  const e = error as { code?: string; driverError?: { code?: string } };
  return e?.driverError?.code ?? e?.code;
}
