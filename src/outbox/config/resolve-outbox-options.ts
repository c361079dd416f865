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
  const resolved = resolveSettings(OUTBOX_SETTINGS, options, 'forRoot', (r) => [
    ...cloudEventsNeedASource(r),
    ...contradictions(r),
  ]);
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
  // The cross-setting rules name the variables, since that is where the fix goes.
  return settingsFromEnv(OUTBOX_SETTINGS, env, defaults, (options) => [
    // A source that was given but is bad has its own issue already.
    ...(env.OUTBOX_CLOUDEVENTS_SOURCE
      ? []
      : cloudEventsNeedASource({
          messageFormat: options.messages?.format,
          cloudEventsSource: options.messages?.cloudEventsSource,
        })),
    ...contradictions({
      retryBaseMs: options.retry?.baseMs,
      retryMaxMs: options.retry?.maxMs,
      healthBacklogWarn: options.health?.backlogWarn,
      healthBacklogMax: options.health?.backlogMax,
    }),
  ]);
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

/**
 * Pairs whose values are each valid but contradict each other: a lower bound above its upper.
 * (The backlog age's warn and max are left out: the warning has a default, and above the max
 * the indicator is down whatever the warning says.)
 */
const ORDERED_PAIRS = [
  ['retryBaseMs', 'OUTBOX_RETRY_BASE_MS', 'retryMaxMs', 'OUTBOX_RETRY_MAX_MS'],
  [
    'healthBacklogWarn',
    'OUTBOX_HEALTH_BACKLOG_WARN',
    'healthBacklogMax',
    'OUTBOX_HEALTH_BACKLOG_MAX',
  ],
] as const;

function contradictions(resolved: Partial<Record<string, unknown>>): OutboxConfigIssue[] {
  return ORDERED_PAIRS.flatMap(([low, lowEnv, high, highEnv]) => {
    const [a, b] = [resolved[low], resolved[high]];
    return typeof a === 'number' && typeof b === 'number' && a > b
      ? [{ source: lowEnv, reason: `(${a}) must not be above ${highEnv} (${b})` }]
      : [];
  });
}
