import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { HealthIndicatorService } from '@nestjs/terminus';
import type {
  OutboxModuleOptions,
  ResolvedOutboxOptions,
} from './config/outbox-options.interface.js';
import { resolveOutboxOptions } from './config/resolve-outbox-options.js';
import { ConfigurableModuleClass, OUTBOX_MODULE_OPTIONS } from './outbox-module-definition.js';
import type { DataSource } from 'typeorm';
import {
  OUTBOX_DATA_SOURCE,
  OUTBOX_ENTITY_MANAGER_RESOLVER,
  OUTBOX_OPTIONS,
  type OutboxEntityManagerResolver,
} from './outbox.constants.js';
import { OutboxBacklogHealthIndicator } from './health/backlog.health.js';
import { OutboxBrokerHealthIndicator } from './health/broker.health.js';
import { OutboxDatabaseHealthIndicator } from './health/database.health.js';
import { OutboxRelayHealthIndicator } from './health/relay.health.js';
import { OutboxInstrumentation } from './instrumentation/outbox-instrumentation.js';
import { OutboxDeadLetterService } from './dead-letters/outbox-dead-letter.service.js';
import { OutboxDeadLetterRepository } from './dead-letters/outbox-dead-letter.repository.js';
import { OutboxRepository } from './write/outbox.repository.js';
import { OutboxRelayStore } from './relay/outbox-relay.store.js';
import { OutboxBacklogReader } from './table/outbox-backlog.reader.js';
import { OutboxRetentionScheduler } from './retention/outbox-retention.scheduler.js';
import { OutboxRelayScheduler } from './relay/outbox-relay.scheduler.js';
import { OutboxRelayService } from './relay/outbox-relay.service.js';
import { OutboxWakeupService } from './wakeup/outbox-wakeup.service.js';
import { OutboxPublisher } from './relay/outbox-publisher.js';
import { OUTBOX_TRANSPORT, type OutboxTransport } from './transport/outbox-transport.js';

/**
 * The transactional outbox: `OutboxRepository` to record events in your transaction, and a
 * relay that publishes them to the broker with acknowledgement.
 * ```ts
 * imports: [TypeOrmModule.forRoot({...}), OutboxModule.forRoot({ transport: natsTransport() })]
 * ```
 * @publicApi
 */
@Module({
  // Global and de-duplicated by Nest: importing it here too does not duplicate jobs.
  imports: [ScheduleModule.forRoot()],
  providers: [
    {
      provide: OUTBOX_OPTIONS,
      inject: [OUTBOX_MODULE_OPTIONS],
      useFactory: (options: OutboxModuleOptions) => resolveOutboxOptions(options),
    },
    {
      provide: OUTBOX_TRANSPORT,
      inject: [OUTBOX_OPTIONS],
      useFactory: (options: ResolvedOutboxOptions): OutboxTransport =>
        options.transport({
          publishTimeoutMs: options.publishTimeoutMs,
          messageFormat: {
            messageFormat: options.messageFormat,
            cloudEventsSource: options.cloudEventsSource,
          },
        }),
    },
    {
      provide: OUTBOX_ENTITY_MANAGER_RESOLVER,
      inject: [OUTBOX_OPTIONS, OUTBOX_DATA_SOURCE],
      useFactory: (
        options: ResolvedOutboxOptions,
        dataSource: DataSource,
      ): OutboxEntityManagerResolver => options.entityManagerResolver ?? (() => dataSource.manager),
    },
    OutboxInstrumentation,
    OutboxRepository,
    OutboxRelayStore,
    OutboxBacklogReader,
    OutboxDeadLetterRepository,
    OutboxDeadLetterService,
    OutboxRetentionScheduler,
    OutboxPublisher,
    OutboxRelayService,
    OutboxWakeupService,
    OutboxRelayScheduler,
    // Terminus' own helper, provided here so the indicators work without TerminusModule.
    HealthIndicatorService,
    OutboxBacklogHealthIndicator,
    OutboxRelayHealthIndicator,
    OutboxBrokerHealthIndicator,
    OutboxDatabaseHealthIndicator,
  ],
  exports: [
    OUTBOX_OPTIONS,
    OUTBOX_TRANSPORT,
    OutboxInstrumentation,
    OutboxRepository,
    OutboxBacklogReader,
    OutboxRelayService,
    OutboxDeadLetterService,
    OutboxBacklogHealthIndicator,
    OutboxRelayHealthIndicator,
    OutboxBrokerHealthIndicator,
    OutboxDatabaseHealthIndicator,
  ],
})
export class OutboxModule extends ConfigurableModuleClass {}
