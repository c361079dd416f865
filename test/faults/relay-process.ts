import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { OutboxRelayStatus } from '../../src/outbox/index.js';
import { TEST_DATABASE_URL, TEST_NATS_URL } from '../support/test-env.js';

const WORKER = join(__dirname, '../../dist/test/faults/relay-worker.js');

/** A relay process; what it logs (errors only) is collected in `errors`. */
export type RelayProcess = ChildProcess & { errors: string[] };

/**
 * A relay in a process of its own (so a test can SIGKILL or SIGSTOP it), configured through
 * the environment like a service; resolves once it is running. `applicationName` names its
 * PostgreSQL sessions, for a test that watches them in pg_stat_activity.
 */
export function startRelayProcess(
  env: Record<string, string>,
  applicationName = 'outbox_relay_process',
): Promise<RelayProcess> {
  const databaseUrl = new URL(TEST_DATABASE_URL);
  databaseUrl.searchParams.set('application_name', applicationName);
  const child = spawn(process.execPath, [WORKER], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl.toString(),
      NATS_SERVERS: TEST_NATS_URL,
      OUTBOX_STREAM_CREATE: 'false',
      // Plain lines in `errors`, for a test to match.
      NO_COLOR: '1',
      ...env,
    },
    // The IPC channel answers relayStatus(); 'advanced' keeps the status's dates.
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  const errors: string[] = [];
  child.stderr!.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(Object.assign(child, { errors })));
    child.once('exit', (code) => reject(new Error(`relay process exited early (${code})`)));
  });
}

/** What the relay in `child` has done so far: its `OutboxRelayService.getStatus()`. */
export function relayStatus(child: ChildProcess): Promise<OutboxRelayStatus> {
  return new Promise((resolve, reject) => {
    child.once('message', (status) => resolve(status as OutboxRelayStatus));
    if (!child.send('status')) reject(new Error('the relay process is not reachable'));
  });
}

/** SIGKILLs `child` and resolves with the signal that ended it, once it has exited. */
export async function sigkill(child: ChildProcess): Promise<NodeJS.Signals | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.signalCode;
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  child.kill('SIGKILL');
  return exited;
}
