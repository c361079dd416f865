import { spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { eventually } from './eventually.js';
import { accepts, freePort } from './ports.js';
import { TEST_DATABASE_URL } from './test-env.js';

const PGBOUNCER = process.env.PGBOUNCER_BIN ?? '/usr/sbin/pgbouncer';

/**
 * A PgBouncer of the test's own in transaction pooling mode, the usual setup in front of
 * PostgreSQL in Kubernetes, on a free loopback port with its own directory, in front of the
 * test database. It refuses to run as root, so as root it runs as the `postgres` user.
 */
export class TestPgBouncer {
  readonly dir = mkdtempSync(join(tmpdir(), 'outbox-pgbouncer-'));
  port = 0;
  private process: ChildProcess | undefined;

  /** The test database's URL, through the proxy. */
  get url(): string {
    const url = new URL(TEST_DATABASE_URL);
    url.host = `127.0.0.1:${this.port}`;
    return url.toString();
  }

  async start(): Promise<this> {
    if (!existsSync(PGBOUNCER)) throw new Error(`${PGBOUNCER} not found: .ci/run installs it`);
    this.port = await freePort();
    const target = new URL(TEST_DATABASE_URL);
    const database = target.pathname.slice(1);
    const user = decodeURIComponent(target.username || 'postgres');
    writeFileSync(join(this.dir, 'users.txt'), `"${user}" ""\n`);
    writeFileSync(
      join(this.dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `${database} = host=${target.hostname} port=${target.port || 5432} dbname=${database}`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${this.port}`,
        'auth_type = trust',
        `auth_file = ${join(this.dir, 'users.txt')}`,
        'pool_mode = transaction',
        'max_client_conn = 200',
        'default_pool_size = 20',
        'ignore_startup_parameters = extra_float_digits,options,application_name',
        'unix_socket_dir =',
        '',
      ].join('\n'),
    );
    const asRoot = userInfo().uid === 0;
    if (asRoot) chownSync(this.dir, ...idsOf('postgres'));
    const args = [...(asRoot ? ['-u', 'postgres'] : []), join(this.dir, 'pgbouncer.ini')];
    this.process = spawn(PGBOUNCER, args, { stdio: 'ignore' });
    await eventually(() => accepts(this.port), { what: `pgbouncer on ${this.port}` });
    return this;
  }

  async destroy(): Promise<void> {
    const child = this.process;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function idsOf(name: string): [number, number] {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  if (!line) throw new Error(`no user ${name} to run pgbouncer as`);
  const [, , uid, gid] = line.split(':');
  return [Number(uid), Number(gid)];
}
