import { OutboxError } from './outbox.error.js';

/**
 * Thrown when the outbox table does not exist; names the migration that creates it.
 * @publicApi
 */
export class OutboxTableMissingError extends OutboxError {
  constructor(readonly table: string) {
    super(
      `Outbox table ${table} (or its relay_idle sequence) does not exist: run the CreateEventOutbox migration (npm run migration:run) or add CreateEventOutbox1732300000000 to your DataSource's migrations`,
    );
  }
}
