import type { OutboxModuleOptions, ResolvedOutboxOptions } from './outbox-options.interface.js';
import { OUTBOX_SETTINGS } from './outbox-settings.js';
import { resolveSettings } from './setting.js';

/**
 * Merges `forRoot` options over the environment over the defaults, and validates the result.
 * Throws one `OutboxConfigError` naming every bad variable or option.
 * @publicApi
 */
export function resolveOutboxOptions(options: OutboxModuleOptions = {}): ResolvedOutboxOptions {
  const resolved = resolveSettings(OUTBOX_SETTINGS, options, options.env ?? process.env, 'forRoot');
  return Object.freeze({
    ...resolved,
    entityManagerResolver: options.entityManagerResolver,
  }) as unknown as ResolvedOutboxOptions;
}
