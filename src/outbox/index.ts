// The main entry point: the outbox without any broker. Brokers are adapters with entry points
// of their own (`nestjs-pg-outbox/nats`, `nestjs-pg-outbox/rabbitmq`), each with its client as
// an optional peer dependency; so are `/inbox`, `/metrics`, `/tracing` and `/testing`.

// Writing events: declare them once, record them in your transaction.
export {
  defineDomainEvent,
  type CreateDomainEventOptions,
  type DomainEvent,
  type DomainEventDefinition,
} from './events/domain-event.js';
export { OutboxRepository } from './write/outbox.repository.js';
export type { EventEnvelope } from './message/event-envelope.js';

// The module and its options.
export { OutboxModule } from './outbox.module.js';
export type { OutboxModuleExtras } from './outbox-module-definition.js';
export type { OutboxModuleOptions } from './config/outbox-options.interface.js';
export { outboxOptionsFromEnv } from './config/resolve-outbox-options.js';
export type { Environment } from './config/setting.js';

// The transport contract, for adapters: what the relay publishes through.
export type {
  OutboxTransport,
  OutboxTransportFactory,
  PublishFailure,
  PublishResult,
} from './transport/outbox-transport.js';
export type { OutboxTransportContext } from './transport/outbox-transport-context.js';
export type { OutboxMessage } from './message/outbox-message.js';
export type { CloudEvent, OutboxMessageFormat } from './message/cloud-event.js';

// Operating: the relay's status, dead letters.
export { OutboxRelayService } from './relay/outbox-relay.service.js';
export type { OutboxRelayStatus } from './relay/outbox-relay-status.js';
export { OutboxDeadLetterService } from './dead-letters/outbox-dead-letter.service.js';
export type {
  FailedEvent,
  FailedEventFilter,
} from './dead-letters/outbox-dead-letter.repository.js';

// Hooks of the consumer servers (ServerJetStream, AckingServerRMQ), for instruments of your
// own; ConsumerMetrics in `nestjs-pg-outbox/metrics` is one.
export type { ConsumedMessage, ConsumerInstrument } from './instrumentation/consumer-instrument.js';

// Health indicators for @nestjs/terminus.
export { OutboxBacklogHealthIndicator } from './health/backlog.health.js';
export { OutboxRelayHealthIndicator } from './health/relay.health.js';
export { OutboxBrokerHealthIndicator } from './health/broker.health.js';
export { OutboxDatabaseHealthIndicator } from './health/database.health.js';

// Migrations: the outbox table, as a TypeORM migration or as plain SQL.
export {
  createOutboxMigration,
  CreateEventOutbox1732300000000,
  type OutboxMigrationOptions,
} from './table/outbox-table.migration.js';
export { createOutboxTableSql } from './table/outbox-table.sql.js';

// Errors: every one extends OutboxError.
export { OutboxError } from './errors/outbox.error.js';
export { OutboxConfigError, type OutboxConfigIssue } from './errors/outbox-config.error.js';
export { InvalidDomainEventError } from './errors/invalid-domain-event.error.js';
export { PayloadNotSerializableError } from './errors/payload-not-serializable.error.js';
export { PayloadTooLargeError } from './errors/payload-too-large.error.js';
export { OutboxTransactionRequiredError } from './errors/outbox-transaction-required.error.js';
export { OutboxTableMissingError } from './errors/outbox-table-missing.error.js';
export { OutboxPublishError } from './errors/outbox-publish.error.js';
export { EventBreaksConnectionError } from './errors/event-breaks-connection.error.js';
export { InvalidDeadLetterQueryError } from './errors/invalid-dead-letter-query.error.js';
