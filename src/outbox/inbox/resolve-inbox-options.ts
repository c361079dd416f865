import { resolveSettings, settingsFromEnv, type Environment } from '../config/setting.js';
import type { InboxModuleOptions, ResolvedInboxOptions } from './inbox-options.interface.js';
import { INBOX_SETTINGS } from './inbox-settings.js';

/**
 * Applies the defaults under `OutboxInboxModule.forRoot` options, and validates the result.
 * Throws one `OutboxConfigError` naming every bad option.
 * @internal
 */
export function resolveInboxOptions(options: InboxModuleOptions = {}): ResolvedInboxOptions {
  return Object.freeze(resolveSettings(INBOX_SETTINGS, options, 'OutboxInboxModule.forRoot'));
}

/**
 * The inbox's options from environment variables (`OUTBOX_INBOX_TABLE`, ...), to spread into
 * `OutboxInboxModule.forRoot()`. Throws one `OutboxConfigError` naming every bad variable.
 * @publicApi
 */
export function inboxOptionsFromEnv(env: Environment): InboxModuleOptions {
  return settingsFromEnv(INBOX_SETTINGS, env);
}
