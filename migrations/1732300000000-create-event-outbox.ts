// The library ships the outbox table's migration; the example service runs it like any user
// would, for the table its environment names (OUTBOX_TABLE, OUTBOX_SCHEMA) when it runs.
import { createOutboxMigration, outboxOptionsFromEnv } from '../src/outbox/index.js';

export class CreateEventOutbox1732300000000 extends createOutboxMigration({
  target: () => outboxOptionsFromEnv(process.env),
}) {}
