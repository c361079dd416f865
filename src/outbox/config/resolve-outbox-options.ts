import type { OutboxConfigIssue } from '../errors/outbox-config.error.js';
import type { OutboxModuleOptions, ResolvedOutboxOptions } from './outbox-options.interface.js';
import { OUTBOX_SETTINGS } from './outbox-settings.js';
import { resolveSettings, settingsFromEnv, type Environment } from './setting.js';

/**
 * Applies the defaults under the options given in code, and validates the result. Throws one
 * `OutboxConfigError` naming every bad option.
 * @internal
 */
export function resolveOutboxOptions(options: OutboxModuleOptions): ResolvedOutboxOptions {
  const resolved = resolveSettings(OUTBOX_SETTINGS, options, 'forRoot', cloudEventsNeedASource);
  return Object.freeze({
    ...resolved,
    transport: options.transport,
    entityManagerResolver: options.entityManagerResolver,
  });
}

/**
 * The outbox's options from environment variables (`OUTBOX_TABLE`, `OUTBOX_BATCH_SIZE`, ...;
 * see docs/configuration.md), to spread into `OutboxModule.forRoot()`. A variable that is unset
 * or empty is left out, so the library's default applies, or `defaults`, the application's
 * own. Throws one `OutboxConfigError` naming every bad variable.
 * ```ts
 * OutboxModule.forRoot({ ...outboxOptionsFromEnv(process.env), transport: natsTransportFromEnv(process.env) })
 * ```
 * @publicApi
 */
export function outboxOptionsFromEnv(
  env: Environment,
  defaults?: Omit<OutboxModuleOptions, 'transport' | 'entityManagerResolver'>,
): Omit<OutboxModuleOptions, 'transport'> {
  const options = settingsFromEnv(OUTBOX_SETTINGS, env, defaults);
  // The cross-setting rule names the variable, since that is where the fix goes.
  const issue = cloudEventsNeedASource({
    messageFormat: options.messages?.format,
    cloudEventsSource: options.messages?.cloudEventsSource,
  });
  if (issue.length > 0) resolveSettings(OUTBOX_SETTINGS, options, 'forRoot', () => issue);
  return options;
}

/**
 * A CloudEvent needs a source, and no default could name this service. (A source that was
 * given but invalid is absent here and has its own issue already.)
 */
function cloudEventsNeedASource(resolved: Partial<Record<string, unknown>>): OutboxConfigIssue[] {
  const format = resolved.messageFormat;
  if (typeof format !== 'string' || format === 'envelope') return [];
  if (resolved.cloudEventsSource !== undefined) return [];
  return [
    {
      source: 'OUTBOX_CLOUDEVENTS_SOURCE',
      reason: `is required with message format ${format}: a URI-reference naming this service, e.g. /edupulse (or set forRoot({ messages: { cloudEventsSource } }))`,
    },
  ];
}
