import type { z } from 'zod';
import { OutboxConfigError, type OutboxConfigIssue } from '../errors/outbox-config.error.js';

/**
 * One configurable setting of an options type `R`: its option name, its environment
 * variable, the default, the rule and the line `.env.example` shows. Declaring each setting
 * once keeps the option, the variable, the validation and the documentation together.
 */
export interface Setting<R, K extends keyof R = keyof R> {
  readonly option: K;
  readonly env: string;
  /** The value as it would be written in the environment; undefined = no default. */
  readonly default: string | undefined;
  readonly description: string;
  readonly schema: z.ZodType<R[K]>;
}

/** Variables whose values may hold credentials: named in errors, never echoed. */
const SECRET_BEARING = new Set(['NATS_SERVERS', 'RABBITMQ_URL']);

/**
 * Merges code options over the environment over the defaults, and validates every setting.
 * Throws one `OutboxConfigError` naming every bad variable or option.
 */
export function resolveSettings<R>(
  settings: readonly Setting<R>[],
  options: { readonly [K in keyof R]?: unknown },
  env: Record<string, string | undefined>,
  optionsLabel: string,
  /** Rules across settings, run on those that were valid on their own. */
  crossCheck?: (resolved: Partial<Record<keyof R, unknown>>) => OutboxConfigIssue[],
): Record<keyof R, unknown> {
  const resolved: Partial<Record<keyof R, unknown>> = {};
  const issues: OutboxConfigIssue[] = [];

  for (const setting of settings) {
    const fromCode = options[setting.option];
    const fromEnv = env[setting.env];
    const [raw, source] =
      fromCode !== undefined
        ? [fromCode, `${optionsLabel}({ ${String(setting.option)} })`]
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

  issues.push(...(crossCheck?.(resolved) ?? []));
  if (issues.length > 0) throw new OutboxConfigError(issues);
  return resolved as Record<keyof R, unknown>;
}
