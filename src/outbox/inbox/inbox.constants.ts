/**
 * Injection token of the validated inbox options (`ResolvedInboxOptions`).
 * @publicApi
 */
export const INBOX_OPTIONS = Symbol('OUTBOX:INBOX_OPTIONS');

/**
 * Injection token of the TypeORM `DataSource` that holds the inbox table.
 * @publicApi
 */
export const INBOX_DATA_SOURCE = Symbol('OUTBOX:INBOX_DATA_SOURCE');

/** Name of the inbox purge's job in `SchedulerRegistry`. @publicApi */
export const INBOX_RETENTION_JOB = 'outbox-inbox-retention';
