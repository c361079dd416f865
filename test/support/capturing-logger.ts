import { ConsoleLogger } from '@nestjs/common';

/**
 * Records what Nest logs, so a test can assert on it; prints errors only. Nest passes the
 * logger's context as the last argument, after any structured fields.
 */
export class CapturingLogger extends ConsoleLogger {
  readonly entries: { level: string; context: string | undefined; message: string }[] = [];

  override log(message: unknown, ...params: unknown[]): void {
    this.record('log', message, params);
  }
  override warn(message: unknown, ...params: unknown[]): void {
    this.record('warn', message, params);
  }
  override error(message: unknown, ...params: unknown[]): void {
    this.record('error', message, params);
  }
  override debug(message: unknown, ...params: unknown[]): void {
    this.record('debug', message, params);
  }
  override verbose(message: unknown, ...params: unknown[]): void {
    this.record('verbose', message, params);
  }

  errors(context?: string): string[] {
    return this.entries
      .filter((e) => e.level === 'error' && (!context || e.context === context))
      .map((e) => e.message);
  }

  private record(level: string, message: unknown, params: unknown[]): void {
    const last = params.at(-1);
    const context = typeof last === 'string' ? last : undefined;
    this.entries.push({ level, context, message: String(message) });
  }
}
