import { ConsoleLogger } from '@nestjs/common';

/** Records what Nest logs, so a test can assert on it; prints errors only. */
export class CapturingLogger extends ConsoleLogger {
  readonly entries: { level: string; context: string | undefined; message: string }[] = [];

  override log(message: unknown, context?: string): void {
    this.record('log', message, context);
  }
  override warn(message: unknown, context?: string): void {
    this.record('warn', message, context);
  }
  override error(message: unknown, stackOrContext?: string, context?: string): void {
    this.record('error', message, context ?? stackOrContext);
  }
  override debug(message: unknown, context?: string): void {
    this.record('debug', message, context);
  }
  override verbose(message: unknown, context?: string): void {
    this.record('verbose', message, context);
  }

  errors(context?: string): string[] {
    return this.entries
      .filter((e) => e.level === 'error' && (!context || e.context === context))
      .map((e) => e.message);
  }

  private record(level: string, message: unknown, context?: string): void {
    this.entries.push({ level, context, message: String(message) });
  }
}
