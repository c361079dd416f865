import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './deploy-files.js';

/** The package's bin, as `npm run build` compiles it. */
export const OUTBOX_CLI = join(ROOT, 'dist', 'src', 'outbox', 'cli', 'outbox-cli.js');

/** Runs `nestjs-pg-outbox <args>` to its end, with `env` over the test run's environment. */
export function runOutboxCli(env: Record<string, string>, ...args: string[]) {
  return spawnSync(process.execPath, [OUTBOX_CLI, ...args], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
}
