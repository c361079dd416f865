import type { z } from 'zod';
import { OutboxConfigError, type OutboxConfigIssue } from '../errors/outbox-config.error.js';

/**
 * One configurable setting, declared once: where it sits in the options (`relay.batchSize`),
 * its name in the resolved options, its environment variable, its default (as it would be
 * written in the environment), what it means, and the rule that validates it. The options'
 * types, the validation, the environment parsing, `.env.example` and the configuration
 * reference are all derived from these declarations.
 * @publicApi
 */
export interface Setting<
  P extends string = string,
  O extends string = string,
  S extends z.ZodType = z.ZodType,
> {
  /** Where it sits in the options object: `table`, or `group.key`. */
  readonly path: P;
  /** Its name in the resolved options. */
  readonly option: O;
  readonly env: string;
  /** The value as it would be written in the environment; undefined = no default. */
  readonly default: string | undefined;
  readonly description: string;
  readonly schema: S;
  /** The value may hold credentials: named in errors, never echoed. */
  readonly secret?: boolean;
}

type AnySetting = Setting<string, string, z.ZodType>;

/** Declares one setting, keeping its path, option name and schema as literal types. */
export function defineSetting<P extends string, O extends string, S extends z.ZodType>(
  setting: Setting<P, O, S>,
): Setting<P, O, S> {
  return setting;
}
type GroupOf<P> = P extends `${infer G}.${string}` ? G : never;

/**
 * The options object the settings describe, every field optional, grouped by path, each typed
 * as its value after validation (a number of milliseconds, a boolean).
 */
export type SettingsInput<T extends readonly AnySetting[]> = {
  -readonly [
    S in T[number] as S['path'] extends `${string}.${string}` ? never : S['path']
  ]?: z.output<S['schema']>;
} & {
  -readonly [G in GroupOf<T[number]['path']>]?: {
    -readonly [S in T[number] as S['path'] extends `${G}.${infer K}` ? K : never]?: z.output<
      S['schema']
    >;
  };
};

/** The options after validation, with every default applied, flat by option name. */
export type SettingsOutput<T extends readonly AnySetting[]> = {
  readonly [S in T[number] as S['option']]: z.output<S['schema']>;
};

/** A variable environment, as `process.env` is one. */
export type Environment = Readonly<Record<string, string | undefined>>;

function valueAt(options: unknown, path: string): unknown {
  let value = options;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function setAt(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  let node = target;
  for (const key of keys) node = (node[key] ??= {}) as Record<string, unknown>;
  node[last] = value;
}

function reasonOf(setting: AnySetting, raw: unknown, error: z.ZodError): string {
  // Echo the value only for settings that cannot hold credentials.
  const shown = setting.secret ? '' : ` (got ${JSON.stringify(raw)})`;
  return error.issues.map((i) => i.message).join('; ') + shown;
}

/**
 * Applies the defaults under the options given in code, and validates every setting. Reads
 * no environment: that is `settingsFromEnv`'s job, at the application's edge. Throws one
 * `OutboxConfigError` naming every bad option.
 */
export function resolveSettings<T extends readonly AnySetting[]>(
  settings: T,
  options: unknown,
  optionsLabel: string,
  /** Rules across settings, run on those that were valid on their own. */
  crossCheck?: (resolved: Partial<Record<string, unknown>>) => OutboxConfigIssue[],
): SettingsOutput<T> {
  const resolved: Record<string, unknown> = {};
  const issues: OutboxConfigIssue[] = [];
  for (const setting of settings) {
    const fromCode = valueAt(options, setting.path);
    const [raw, source] =
      fromCode !== undefined
        ? [fromCode, `${optionsLabel}(${describePath(setting.path)})`]
        : [setting.default, `${setting.env} (default)`];
    const result = setting.schema.safeParse(raw);
    if (result.success) resolved[setting.option] = result.data;
    else issues.push({ source, reason: reasonOf(setting, raw, result.error) });
  }
  issues.push(...(crossCheck?.(resolved) ?? []));
  if (issues.length > 0) throw new OutboxConfigError(issues);
  return resolved as SettingsOutput<T>;
}

/**
 * Reads the settings' variables from `env` into an options object, validating each one; an
 * unset or empty variable falls back to `defaults` (the application's own), then is left out
 * (the library's default applies). Throws one `OutboxConfigError` naming every bad variable.
 */
export function settingsFromEnv<T extends readonly AnySetting[]>(
  settings: T,
  env: Environment,
  defaults: SettingsInput<T> = {},
  /** Rules across settings, run on those that were valid on their own. */
  crossCheck?: (options: SettingsInput<T>) => OutboxConfigIssue[],
): SettingsInput<T> {
  const options: Record<string, unknown> = {};
  const issues: OutboxConfigIssue[] = [];
  for (const setting of settings) {
    const fromEnv = env[setting.env];
    const raw = fromEnv !== undefined && fromEnv !== '' ? fromEnv : valueAt(defaults, setting.path);
    if (raw === undefined) continue;
    const result = setting.schema.safeParse(raw);
    if (result.success) setAt(options, setting.path, result.data);
    else issues.push({ source: setting.env, reason: reasonOf(setting, raw, result.error) });
  }
  issues.push(...(crossCheck?.(options as SettingsInput<T>) ?? []));
  if (issues.length > 0) throw new OutboxConfigError(issues);
  return options as SettingsInput<T>;
}

/** `relay.batchSize` as it is written in code: `{ relay: { batchSize } }`. */
export function describePath(path: string): string {
  return path
    .split('.')
    .reduceRight((inner, key) => (inner ? `{ ${key}: ${inner} }` : `{ ${key} }`), '');
}
