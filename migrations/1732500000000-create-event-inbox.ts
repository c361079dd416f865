// The library ships the inbox table's migration; the example service runs it like any user
// would, for the table its environment names (OUTBOX_INBOX_TABLE, OUTBOX_INBOX_SCHEMA) when it runs.
import { createInboxMigration, inboxOptionsFromEnv } from '../src/outbox/inbox/index.js';

export class CreateEventInbox1732500000000 extends createInboxMigration({
  target: () => inboxOptionsFromEnv(process.env),
}) {}
