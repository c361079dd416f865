import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { accepts, freePort } from './ports.js';

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/** A user and password the server requires of every client. */
export interface NatsCredentials {
  readonly user: string;
  readonly password: string;
}

/**
 * A nats-server of the test's own, on a free loopback port with its own JetStream store, so a
 * test can kill the broker without touching the shared one. Restarts keep port and store.
 * With `credentials`, the server refuses clients without them, and `url` carries them, as an
 * operator's NATS_SERVERS would.
 */
export class PrivateNatsServer {
  readonly storeDir = mkdtempSync(join(tmpdir(), 'outbox-nats-'));
  port = 0;
  private process: ChildProcess | undefined;

  constructor(readonly credentials?: NatsCredentials) {}

  get url(): string {
    const auth = this.credentials
      ? `${encodeURIComponent(this.credentials.user)}:${encodeURIComponent(this.credentials.password)}@`
      : '';
    return `nats://${auth}127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (!existsSync(NATS_SERVER)) throw new Error(`${NATS_SERVER} not found: .ci/run installs it`);
    if (this.port === 0) this.port = await freePort();
    const args = ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir];
    if (this.credentials) {
      args.push('--user', this.credentials.user, '--pass', this.credentials.password);
    }
    this.process = spawn(NATS_SERVER, args, { stdio: 'ignore' });
    await eventually(() => accepts(this.port), { what: `nats-server on ${this.port}` });
    return this;
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}
