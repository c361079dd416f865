import { ConsoleLogger, type ConsoleLoggerOptions, type LogLevel } from '@nestjs/common';
import { redactCredentials } from '../outbox/errors/error-text.js';
import { OutboxConfigError, type Environment } from '../outbox/index.js';

/** `LOG_FORMAT`: how the example service writes its log. */
export const LOG_FORMAT_VARIABLE = 'LOG_FORMAT';
const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * `LOG_FORMAT=json` (one JSON object per line, for a log pipeline) or `text` (the default:
 * Nest's coloured lines, for a terminal). Throws an `OutboxConfigError` naming the variable.
 */
export function logFormatFromEnv(env: Environment): LogFormat {
  const raw = env[LOG_FORMAT_VARIABLE]?.trim() || 'text';
  const format = LOG_FORMATS.find((f) => f === raw.toLowerCase());
  if (format) return format;
  throw new OutboxConfigError([
    {
      source: LOG_FORMAT_VARIABLE,
      reason: `must be text or json (got ${JSON.stringify(raw.slice(0, 40))})`,
    },
  ]);
}

/** Keys whose values are never printed, at any depth, in structured fields and objects. */
const REDACTED_KEYS = ['password', 'secret', 'token', 'authorization', 'cookie'];

/**
 * Nest's `ConsoleLogger`, in JSON mode or not, that also hides `user:password@` in any URL it
 * prints: in messages, stacks, structured fields and serialised errors. Library code (a
 * client's connection error) may print a connection string; Nest's own `redact` option only
 * masks values by key.
 */
export class AppLogger extends ConsoleLogger {
  protected override printMessages(
    messages: unknown[],
    context?: string,
    logLevel?: LogLevel,
    writeStreamType?: 'stdout' | 'stderr',
    errorStack?: unknown,
    params?: Record<string, unknown>,
  ): void {
    // JSON is read by machines: no colour codes (terminus colours its failure report).
    const clean = this.options.json ? (m: unknown) => stripAnsi(redactUrls(m)) : redactUrls;
    super.printMessages(
      messages.map((m) => clean(m)),
      context,
      logLevel,
      writeStreamType,
      redactUrls(errorStack),
      params && (redactUrls(params) as Record<string, unknown>),
    );
  }

  /** Errors in JSON mode. */
  protected override serializeError(
    error: Error,
    depth?: number,
    ancestors?: Set<Error>,
  ): Record<string, unknown> {
    return redactUrls(super.serializeError(error, depth, ancestors)) as Record<string, unknown>;
  }

  /** Errors and objects in text mode, once inspected. */
  protected override stringifyMessage(message: unknown, logLevel: LogLevel): string {
    return redactCredentials(super.stringifyMessage(message, logLevel));
  }
}

// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\u001b\[[0-9;]*m/g;
const stripAnsi = (value: unknown): unknown =>
  typeof value === 'string' ? value.replace(ANSI_ESCAPE, '') : value;

/** Strings, and the strings inside plain objects and arrays, with URL credentials hidden. */
function redactUrls(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactCredentials(value);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redactUrls(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactUrls(v, depth + 1)]),
  );
}

/**
 * The logger of the example service. JSON: one object per line with `level`, `timestamp`,
 * `pid`, `context`, `message`, and the structured fields of the line (the relay's `table`,
 * `batchSize`, counts and `errorKind`) as keys of their own.
 */
export function createAppLogger(format: LogFormat): AppLogger {
  const options: ConsoleLoggerOptions =
    format === 'json'
      ? { json: true, flattenParams: true, redact: REDACTED_KEYS }
      : { redact: REDACTED_KEYS };
  return new AppLogger(options);
}
