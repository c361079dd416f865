/**
 * Injection token of the validated, fully resolved options (`ResolvedOutboxOptions`).
 * @publicApi
 */
export const OUTBOX_OPTIONS = Symbol('OUTBOX:OPTIONS');

/**
 * Injection token of the `ClientProxy` the relay publishes through.
 * @publicApi
 */
export const OUTBOX_CLIENT = Symbol('OUTBOX:CLIENT');

/**
 * Injection token of the TypeORM `DataSource` that holds the outbox table.
 * @publicApi
 */
export const OUTBOX_DATA_SOURCE = Symbol('OUTBOX:DATA_SOURCE');

/** Name of the relay's job in `SchedulerRegistry`. @publicApi */
export const OUTBOX_RELAY_JOB = 'outbox-relay';

/** Name of the retention purge's job in `SchedulerRegistry`. @publicApi */
export const OUTBOX_RETENTION_JOB = 'outbox-retention';
