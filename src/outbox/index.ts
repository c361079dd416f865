export { OutboxModule } from './outbox.module.js';
export { OUTBOX_MODULE_OPTIONS, type OutboxModuleExtras } from './outbox-module-definition.js';
export {
  OUTBOX_CLIENT,
  OUTBOX_DATA_SOURCE,
  OUTBOX_ENTITY_MANAGER_RESOLVER,
  OUTBOX_OPTIONS,
  type OutboxEntityManagerResolver,
  OUTBOX_RELAY_JOB,
  OUTBOX_RETENTION_JOB,
} from './outbox.constants.js';
export type {
  OutboxModuleOptions,
  ResolvedOutboxOptions,
} from './config/outbox-options.interface.js';
export { resolveOutboxOptions } from './config/resolve-outbox-options.js';
export { OUTBOX_SETTINGS, type OutboxSetting } from './config/outbox-settings.js';
export {
  defineDomainEvent,
  type CreateDomainEventOptions,
  type DomainEvent,
  type DomainEventDefinition,
} from './events/domain-event.js';
export type { EventEnvelope } from './events/event-envelope.js';
export { OutboxRepository, type OutboxBacklog } from './persistence/outbox.repository.js';
export {
  OutboxAdminRepository,
  type FailedEvent,
  type FailedEventFilter,
} from './persistence/outbox-admin.repository.js';
export { OutboxDeadLetterService } from './dead-letters/outbox-dead-letter.service.js';
export { OutboxRetentionScheduler } from './retention/outbox-retention.scheduler.js';
export { createOutboxTableSql, dropOutboxTableSql } from './persistence/outbox-table.sql.js';
export { OutboxInstrumentation } from './instrumentation/outbox-instrumentation.js';
export type {
  OutboxBatchReport,
  OutboxInstrument,
  RelayedFailure,
} from './instrumentation/outbox-instrument.js';
export type { ClaimedEvent } from './persistence/claimed-event.js';
export {
  createOutboxMigration,
  CreateEventOutbox1732300000000,
  type OutboxMigrationClass,
  type OutboxMigrationOptions,
} from './persistence/outbox-table.migration.js';
export { OutboxRelayService } from './relay/outbox-relay.service.js';
export type { OutboxRelayStatus } from './relay/outbox-relay-status.js';
export { OUTBOX_TRANSPORT, type OutboxTransport } from './transport/outbox-transport.js';
export type { OutboxMessage } from './transport/outbox-message.js';
export type {
  CloudEvent,
  MessageFormatOptions,
  OutboxMessageFormat,
} from './transport/cloud-event.js';
export { ClientJetStream, type ClientJetStreamOptions } from './transport/nats/client-jetstream.js';
export { NatsEnvelopeSerializer } from './transport/nats/nats-envelope.serializer.js';
export { RmqEnvelopeSerializer } from './transport/rabbitmq/rmq-envelope.serializer.js';
export { OutboxBacklogHealthIndicator } from './health/backlog.health.js';
export { OutboxRelayHealthIndicator } from './health/relay.health.js';
export { OutboxBrokerHealthIndicator } from './health/broker.health.js';
export { OutboxDatabaseHealthIndicator } from './health/database.health.js';
export * from './errors/index.js';
export { OutboxInboxModule } from './inbox/outbox-inbox.module.js';
export { INBOX_DATA_SOURCE, INBOX_OPTIONS, INBOX_RETENTION_JOB } from './inbox/inbox.constants.js';
export type { InboxModuleOptions, ResolvedInboxOptions } from './inbox/inbox-options.interface.js';
export { INBOX_SETTINGS, type InboxSetting } from './inbox/inbox-settings.js';
export { resolveInboxOptions } from './inbox/resolve-inbox-options.js';
export {
  IdempotentConsumerService,
  type ProcessOnceOptions,
  type ProcessOnceResult,
} from './inbox/idempotent-consumer.service.js';
export { InboxRetentionScheduler } from './inbox/inbox-retention.scheduler.js';
export { createInboxTableSql, dropInboxTableSql } from './inbox/inbox-table.sql.js';
export {
  createInboxMigration,
  CreateEventInbox1732500000000,
} from './inbox/inbox-table.migration.js';
export { eventIdOf } from './inbox/event-id.js';
export { ServerJetStream, type ServerJetStreamOptions } from './inbox/nats/server-jetstream.js';
export { JetStreamContext } from './inbox/nats/jetstream.context.js';
export {
  AckingServerRMQ,
  type AckingServerRmqOptions,
} from './inbox/rabbitmq/acking-server-rmq.js';
export { RmqEnvelopeDeserializer } from './inbox/rabbitmq/rmq-envelope.deserializer.js';
