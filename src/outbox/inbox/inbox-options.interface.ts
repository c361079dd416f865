/**
 * Options of `OutboxInboxModule.forRoot()`. Every field is optional: a field left out is read
 * from its environment variable, and failing that takes its default.
 * @publicApi
 */
export interface InboxModuleOptions {
  /**
   * Inbox table name; a plain SQL identifier. Env `OUTBOX_INBOX_TABLE`.
   * @default 'event_inbox'
   */
  table?: string;
  /**
   * Schema of the inbox table; a plain SQL identifier. Env `OUTBOX_INBOX_SCHEMA`.
   * @default the connection's search_path
   */
  schema?: string;
  /**
   * How long processed event ids are kept, in ms. A copy of an event that arrives later than
   * this is processed again. Env `OUTBOX_INBOX_RETENTION` (`7d`, `12h`, `30m`, `45s`).
   * @default 7 days
   */
  retentionMs?: number;
  /**
   * Cron expression (with seconds) of the purge of old rows. Env `OUTBOX_INBOX_PURGE_CRON`.
   * @default '0 * * * * *' (every minute)
   */
  purgeCron?: string;
  /**
   * Rows deleted per purge statement. Env `OUTBOX_INBOX_PURGE_BATCH_SIZE`.
   * @default 1000
   */
  purgeBatchSize?: number;
  /**
   * Where unset fields are read from; tests pass their own.
   * @default process.env
   */
  env?: Record<string, string | undefined>;
}

/**
 * The inbox options after validation, with every default applied.
 * @publicApi
 */
export interface ResolvedInboxOptions {
  readonly table: string;
  readonly schema: string | undefined;
  readonly retentionMs: number;
  readonly purgeCron: string;
  readonly purgeBatchSize: number;
}
