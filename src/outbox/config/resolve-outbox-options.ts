import { OutboxConfigError, type OutboxConfigIssue } from '../errors/outbox-config.error.js';
import type { OutboxModuleOptions, ResolvedOutboxOptions } from './outbox-options.interface.js';
import { OUTBOX_SETTINGS } from './outbox-settings.js';

/** Variables whose values may hold credentials: named in errors, never echoed. */
const SECRET_BEARING = new Set(['NATS_SERVERS', 'RABBITMQ_URL']);

/**
 * Merges `forRoot` options over the environment over the defaults, and validates the result.
 * Throws one `OutboxConfigError` naming every bad variable or option.
 * @publicApi
 */
export function resolveOutboxOptions(options: OutboxModuleOptions = {}): ResolvedOutboxOptions {
  const env = options.env ?? process.env;
  const resolved: Record<string, unknown> = {
    entityManagerResolver: options.entityManagerResolver,
  };
  const issues: OutboxConfigIssue[] = [];

  for (const setting of OUTBOX_SETTINGS) {
    const fromCode = options[setting.option];
    const fromEnv = env[setting.env];
    const [raw, source] =
      fromCode !== undefined
        ? [fromCode, `forRoot({ ${setting.option} })`]
        : fromEnv !== undefined && fromEnv !== ''
          ? [fromEnv, setting.env]
          : [setting.default, `${setting.env} (default)`];

    const result = setting.schema.safeParse(raw);
    if (result.success) {
      resolved[setting.option] = result.data;
    } else {
      // Echo the value only for variables that cannot hold credentials.
      const shown = SECRET_BEARING.has(setting.env) ? '' : ` (got ${JSON.stringify(raw)})`;
      issues.push({
        source,
        reason: result.error.issues.map((i) => i.message).join('; ') + shown,
      });
    }
  }

  // A CloudEvent needs a source, and no default could name this service. (A source that was
  // given but invalid is not in `resolved` and has its own issue already.)
  const format = resolved.messageFormat;
  if (
    typeof format === 'string' &&
    format !== 'envelope' &&
    'cloudEventsSource' in resolved &&
    resolved.cloudEventsSource === undefined
  ) {
    issues.push({
      source: 'OUTBOX_CLOUDEVENTS_SOURCE',
      reason: `is required with message format ${format}: a URI-reference naming this service, e.g. /edupulse (or set forRoot({ cloudEventsSource }))`,
    });
  }

  if (issues.length > 0) throw new OutboxConfigError(issues);
  return Object.freeze(resolved) as unknown as ResolvedOutboxOptions;
}
