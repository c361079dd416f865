import type { EntityManager } from 'typeorm';
import type { OutboxTransportFactory } from '../transport/outbox-transport.js';
import type { OUTBOX_SETTINGS } from './outbox-settings.js';
import type { SettingsInput, SettingsOutput } from './setting.js';

/**
 * Options of `OutboxModule.forRoot()`, grouped: `{ table, schema, transport, relay, write,
 * messages, retry, retention, health }`. Each setting is described once, with its default, in
 * `OUTBOX_SETTINGS` (and in docs/configuration.md, generated from it). Nothing is read from the
 * environment here: `outboxOptionsFromEnv(process.env)` turns variables into these options.
 * @publicApi
 */
export type OutboxModuleOptions = SettingsInput<typeof OUTBOX_SETTINGS> & {
  /** The broker: `natsTransport()` from `nestjs-pg-outbox/nats`, `rabbitmqTransport()` from `/rabbitmq`. */
  transport: OutboxTransportFactory;
  /**
   * Returns the caller's current EntityManager for `OutboxRepository.record()`, to join an
   * ambient transaction: with `@nestjs-cls/transactional`,
   * `() => TransactionHost.getInstance<TransactionalAdapterTypeOrm>().tx`.
   * @default the DataSource's manager (no transaction: `record()` is refused)
   */
  entityManagerResolver?: () => EntityManager;
};

/** The options after validation, with every default applied. @internal */
export type ResolvedOutboxOptions = SettingsOutput<typeof OUTBOX_SETTINGS> & {
  readonly transport: OutboxTransportFactory;
  readonly entityManagerResolver: (() => EntityManager) | undefined;
};
