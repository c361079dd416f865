// The `nestjs-pg-outbox/inbox` entry point: idempotent consumers. An inbox table remembers
// which events a consumer processed, in the consumer's own transaction.
export { OutboxInboxModule } from './outbox-inbox.module.js';
export type { InboxModuleOptions } from './inbox-options.interface.js';
export { inboxOptionsFromEnv } from './resolve-inbox-options.js';
export {
  IdempotentConsumerService,
  type ProcessOnceOptions,
  type ProcessOnceResult,
} from './idempotent-consumer.service.js';
export { eventIdOf } from './event-id.js';
export { createInboxMigration, CreateEventInbox1732500000000 } from './inbox-table.migration.js';
export { createInboxTableSql } from './inbox-table.sql.js';
export { InboxTableMissingError } from '../errors/inbox-table-missing.error.js';
export { InvalidInboxKeyError } from '../errors/invalid-inbox-key.error.js';
