import type { SettingsInput, SettingsOutput } from '../config/setting.js';
import type { INBOX_SETTINGS } from './inbox-settings.js';

/**
 * Options of `OutboxInboxModule.forRoot()`: `{ table, schema, keepFor, purgeCron,
 * purgeBatchSize }`, each described with its default in `INBOX_SETTINGS`. Nothing is read from
 * the environment here: `inboxOptionsFromEnv(process.env)` turns variables into these options.
 * @publicApi
 */
export type InboxModuleOptions = SettingsInput<typeof INBOX_SETTINGS>;

/** The inbox options after validation, with every default applied. @internal */
export type ResolvedInboxOptions = SettingsOutput<typeof INBOX_SETTINGS>;
