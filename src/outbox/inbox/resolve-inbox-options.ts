import { resolveSettings } from '../config/setting.js';
import type { InboxModuleOptions, ResolvedInboxOptions } from './inbox-options.interface.js';
import { INBOX_SETTINGS } from './inbox-settings.js';

/**
 * Merges `OutboxInboxModule.forRoot` options over the environment over the defaults, and
 * validates the result. Throws one `OutboxConfigError` naming every bad variable or option.
 * @publicApi
 */
export function resolveInboxOptions(options: InboxModuleOptions = {}): ResolvedInboxOptions {
  const resolved = resolveSettings(
    INBOX_SETTINGS,
    options,
    options.env ?? process.env,
    'OutboxInboxModule.forRoot',
  );
  return Object.freeze(resolved) as unknown as ResolvedInboxOptions;
}
