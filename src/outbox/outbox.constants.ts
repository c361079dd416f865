/**
 * Injection token of the validated, fully resolved options (`ResolvedOutboxOptions`).
 * @publicApi
 */
export const OUTBOX_OPTIONS = Symbol('OUTBOX:OPTIONS');

/**
 * Injection token of the TypeORM `DataSource` that holds the outbox table.
 * @publicApi
 */
export const OUTBOX_DATA_SOURCE = Symbol('OUTBOX:DATA_SOURCE');

/**
 * Injection token of the function that returns the caller's current `EntityManager`, used by
 * `OutboxRepository.record()`. Defaults to the DataSource's manager (no transaction, so a
 * write is refused while `requireTransaction` is on). Override it to join an ambient
 * transaction, e.g. `() => transactionHost.tx` with `@nestjs-cls/transactional`.
 * @publicApi
 */
export const OUTBOX_ENTITY_MANAGER_RESOLVER = Symbol('OUTBOX:ENTITY_MANAGER_RESOLVER');

/** @publicApi */
export type OutboxEntityManagerResolver = () => import('typeorm').EntityManager;

/** Name of the relay's job in `SchedulerRegistry`. @publicApi */
export const OUTBOX_RELAY_JOB = 'outbox-relay';

/** Name of the retention purge's job in `SchedulerRegistry`. @publicApi */
export const OUTBOX_RETENTION_JOB = 'outbox-retention';
