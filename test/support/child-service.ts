import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './deploy-files.js';
import { eventually } from './eventually.js';

export const EDUPULSE_MAIN = join(ROOT, 'dist', 'src', 'edupulse', 'main.js');

/** The environment of the test run, without npm's variables, plus `extra`. */
export function serviceEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...Object.fromEntries(
      Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
    ),
    ...extra,
  };
}

/**
 * The example service as a child process (`node dist/src/edupulse/main.js`, built by
 * `npm run build`), with every line it writes to stdout and stderr kept as it came.
 */
export class ChildService {
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  private child: ChildProcess | undefined;

  start(env: NodeJS.ProcessEnv): this {
    const child = spawn(process.execPath, [EDUPULSE_MAIN], { env, stdio: 'pipe' });
    this.child = child;
    splitLines(child.stdout, this.stdout);
    splitLines(child.stderr, this.stderr);
    return this;
  }

  /** Every line either stream carried so far, stdout first. */
  get lines(): string[] {
    return [...this.stdout, ...this.stderr];
  }

  waitForLine(test: (line: string) => boolean, what: string, timeoutMs = 30_000) {
    return eventually(() => this.lines.find(test), { what, timeoutMs, intervalMs: 100 });
  }

  /**
   * SIGTERM, as Kubernetes stops a pod; SIGKILL if it has not exited after `graceMs`. Nest's
   * shutdown hooks re-raise the signal once closed, so a clean stop ends by SIGTERM.
   */
  async stop(graceMs = 15_000): Promise<{ code: number | null; signal: string | null }> {
    const child = this.child;
    if (!child) return { code: null, signal: null };
    if (child.exitCode !== null || child.signalCode !== null) {
      return { code: child.exitCode, signal: child.signalCode };
    }
    const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const result = await exited;
    clearTimeout(timer);
    return result;
  }
}

function splitLines(stream: NodeJS.ReadableStream, into: string[]): void {
  let partial = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    into.push(...parts);
  });
  stream.on('end', () => {
    if (partial) into.push(partial);
  });
}
