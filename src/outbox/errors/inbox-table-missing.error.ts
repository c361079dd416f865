import { OutboxError } from './outbox.error.js';

/**
 * Thrown when the inbox table does not exist; names the migration that creates it.
 * @publicApi
 */
export class InboxTableMissingError extends OutboxError {
  constructor(readonly table: string) {
    super(
      `Inbox table ${table} does not exist: add CreateEventInbox1732500000000, or createInboxMigration({ table, schema }), to your DataSource's migrations and run them`,
    );
  }
}
