import { OutboxError } from './outbox.error.js';

/**
 * Thrown when the inbox table does not exist; names the migration that creates it.
 * @publicApi
 */
export class InboxTableMissingError extends OutboxError {
  constructor(readonly table: string) {
    super(
      `Inbox table ${table} does not exist: run the CreateEventInbox migration (npm run migration:run) or add CreateEventInbox1732500000000 to your DataSource's migrations`,
    );
  }
}
