import type { OutboxModuleOptions, ResolvedOutboxOptions } from './outbox-options.interface.js';
import { OUTBOX_SETTINGS } from './outbox-settings.js';
import type { OutboxConfigIssue } from '../errors/outbox-config.error.js';
import { resolveSettings } from './setting.js';

/**
 * Merges `forRoot` options over the environment over the defaults, and validates the result.
 * Throws one `OutboxConfigError` naming every bad variable or option.
 * @publicApi
 */
export function resolveOutboxOptions(options: OutboxModuleOptions = {}): ResolvedOutboxOptions {
  const resolved = resolveSettings(
    OUTBOX_SETTINGS,
    options,
    options.env ?? process.env,
    'forRoot',
    cloudEventsNeedASource,
  );
  return Object.freeze({
    ...resolved,
    entityManagerResolver: options.entityManagerResolver,
  }) as unknown as ResolvedOutboxOptions;
}

/**
 * A CloudEvent needs a source, and no default could name this service. (A source that was
 * given but invalid is absent here and has its own issue already.)
 */
function cloudEventsNeedASource(
  resolved: Partial<Record<keyof ResolvedOutboxOptions, unknown>>,
): OutboxConfigIssue[] {
  const format = resolved.messageFormat;
  if (typeof format !== 'string' || format === 'envelope') return [];
  if (!('cloudEventsSource' in resolved) || resolved.cloudEventsSource !== undefined) return [];
  return [
    {
      source: 'OUTBOX_CLOUDEVENTS_SOURCE',
      reason: `is required with message format ${format}: a URI-reference naming this service, e.g. /edupulse (or set forRoot({ cloudEventsSource }))`,
    },
  ];
}
