import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { TEST_DATABASE_URL, TEST_NATS_URL } from '../support/test-env.js';

const WORKER = join(__dirname, '../../dist/test/faults/relay-worker.js');

/**
 * A relay in a process of its own (so a test can SIGKILL or SIGSTOP it), configured through
 * the environment like a service; resolves once it is running. What it logs (errors only)
 * is collected in `errors`.
 */
export function startRelayProcess(
  env: Record<string, string>,
): Promise<ChildProcess & { errors: string[] }> {
  const child = spawn(process.execPath, [WORKER], {
    env: {
      ...process.env,
      DATABASE_URL: TEST_DATABASE_URL,
      NATS_SERVERS: TEST_NATS_URL,
      OUTBOX_STREAM_CREATE: 'false',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const errors: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => errors.push(chunk.toString()));
  return new Promise((resolve, reject) => {
    child.stdout.once('data', () => resolve(Object.assign(child, { errors })));
    child.once('exit', (code) => reject(new Error(`relay process exited early (${code})`)));
  });
}
