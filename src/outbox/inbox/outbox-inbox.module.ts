import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { IdempotentConsumerService } from './idempotent-consumer.service.js';
import { INBOX_OPTIONS } from './inbox.constants.js';
import type { InboxModuleOptions } from './inbox-options.interface.js';
import { InboxRepository } from './inbox.repository.js';
import { InboxRetentionScheduler } from './inbox-retention.scheduler.js';
import {
  ConfigurableInboxModuleClass,
  INBOX_MODULE_OPTIONS,
} from './outbox-inbox-module-definition.js';
import { resolveInboxOptions } from './resolve-inbox-options.js';

/**
 * Idempotent consumers, optional: import it where `@EventPattern` handlers live, and run the
 * `CreateEventInbox` migration. It does not need `OutboxModule`.
 * ```ts
 * imports: [TypeOrmModule.forRoot({...}), OutboxInboxModule.forRoot({ isGlobal: true })]
 * ```
 * @publicApi
 */
@Module({
  // Global and de-duplicated by Nest: importing it here too does not duplicate jobs.
  imports: [ScheduleModule.forRoot()],
  providers: [
    {
      provide: INBOX_OPTIONS,
      inject: [INBOX_MODULE_OPTIONS],
      useFactory: (options: InboxModuleOptions) => resolveInboxOptions(options),
    },
    InboxRepository,
    IdempotentConsumerService,
    InboxRetentionScheduler,
  ],
  exports: [INBOX_OPTIONS, IdempotentConsumerService, InboxRetentionScheduler],
})
export class OutboxInboxModule extends ConfigurableInboxModuleClass {}
