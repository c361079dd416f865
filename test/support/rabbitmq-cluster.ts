import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { eventually } from './eventually.js';
import { accepts, freePort } from './ports.js';

// The scripts behind /usr/sbin: that wrapper switches to the `rabbitmq` user, whose home holds
// the machine broker's cookie. Called directly, they run as the test's user with its own home.
const RABBITMQ_BIN = process.env.RABBITMQ_BIN_DIR ?? '/usr/lib/rabbitmq/bin';

const run = promisify(execFile);

interface Node {
  readonly name: string;
  readonly port: number;
  readonly distPort: number;
  process?: ChildProcess;
}

/**
 * A RabbitMQ cluster of the test's own: `size` nodes on free loopback ports, next to the
 * machine's broker and unknown to it. Each node has its own data and log directories; the
 * cluster shares an Erlang cookie kept in its temporary directory, which is also the HOME of
 * the nodes and of the `rabbitmqctl` calls, so nothing reads or writes the machine's cookie,
 * configuration or enabled plugins. A node can be SIGKILLed by name.
 */
export class RabbitMqCluster {
  private readonly dir = mkdtempSync(join(tmpdir(), 'outbox-rabbitmq-cluster-'));
  private readonly nodes: Node[] = [];
  private readonly id = Math.random().toString(36).slice(2, 8);
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly size = 3) {
    this.env = {
      ...process.env,
      HOME: this.dir,
      // Not /etc/rabbitmq: its rabbitmq-env.conf names the machine broker's node.
      RABBITMQ_CONF_ENV_FILE: join(this.dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: join(this.dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: join(this.dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: join(this.dir, 'enabled_plugins'),
      // Should no epmd run yet, the one a node starts listens on loopback only.
      ERL_EPMD_ADDRESS: '127.0.0.1',
    };
  }

  /** Each node's AMQP URL, in node order: what a client lists in RABBITMQ_URL. */
  get urls(): string[] {
    return this.nodes.map(urlOf);
  }

  get nodeNames(): string[] {
    return this.nodes.map((n) => n.name);
  }

  /** The AMQP URLs of the nodes still running. */
  get liveUrls(): string[] {
    return this.nodes.filter((n) => n.process).map(urlOf);
  }

  async start(): Promise<this> {
    if (!existsSync(join(RABBITMQ_BIN, 'rabbitmq-server'))) {
      throw new Error(`${RABBITMQ_BIN}/rabbitmq-server not found: .ci/run installs it`);
    }
    writeFileSync(join(this.dir, '.erlang.cookie'), `OUTBOXFAULTTEST${this.id.toUpperCase()}`, {
      mode: 0o400,
    });
    writeFileSync(join(this.dir, 'rabbitmq-env.conf'), '');
    writeFileSync(
      join(this.dir, 'rabbitmq.conf'),
      'log.console = false\nlog.file.level = warning\n',
    );
    // No plugins, the management plugin included: nothing listens beyond AMQP.
    writeFileSync(join(this.dir, 'enabled_plugins'), '[].\n');
    for (let i = 1; i <= this.size; i++) {
      this.nodes.push({
        name: `outbox-ft-${this.id}-${i}@localhost`,
        port: await freePort(),
        distPort: await freePort(),
      });
    }
    for (const node of this.nodes) this.spawn(node);
    await Promise.all(this.nodes.map((node) => this.awaitStartup(node)));
    const [seed, ...others] = this.nodes;
    await Promise.all(others.map((node) => this.ctl(node.name, 'stop_app')));
    // One at a time: each joins the cluster as it stands.
    for (const node of others) await this.ctl(node.name, 'join_cluster', seed.name);
    await Promise.all(others.map((node) => this.ctl(node.name, 'start_app')));
    return this;
  }

  /** `rabbitmqctl -n <node> <args>` against this cluster; its standard output. */
  async ctl(node: string, ...args: string[]): Promise<string> {
    const { stdout } = await run(join(RABBITMQ_BIN, 'rabbitmqctl'), ['-n', node, ...args], {
      env: this.env,
      timeout: 90_000,
    });
    return stdout;
  }

  /**
   * The node a client connection named `connectionName` (its `connection_name` property) is
   * on, asked of node `via`; undefined while there is none.
   */
  async nodeServing(connectionName: string, via: string): Promise<string | undefined> {
    const rows = JSON.parse(
      await this.ctl(
        via,
        '-q',
        'list_connections',
        'port',
        'client_properties',
        '--formatter',
        'json',
      ),
    ) as { port: number; client_properties: [string, string, unknown][] }[];
    const row = rows.find((r) =>
      r.client_properties.some(
        ([key, , value]) => key === 'connection_name' && value === connectionName,
      ),
    );
    return this.nodes.find((n) => n.port === row?.port)?.name;
  }

  /** SIGKILLs the node named `name`: its Erlang VM and everything it started. */
  async kill(name: string): Promise<void> {
    const node = this.nodes.find((n) => n.name === name);
    if (!node?.process) throw new Error(`no running node ${name}`);
    const exited = new Promise((resolve) => node.process!.once('exit', resolve));
    // The script runs the VM as a child: the whole process group goes at once.
    process.kill(-node.process.pid!, 'SIGKILL');
    await exited;
    node.process = undefined;
  }

  async destroy(): Promise<void> {
    await Promise.all(
      this.nodes.filter((n) => n.process).map((n) => this.kill(n.name).catch(() => undefined)),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }

  private spawn(node: Node): void {
    const home = join(this.dir, node.name);
    mkdirSync(home);
    node.process = spawn(join(RABBITMQ_BIN, 'rabbitmq-server'), [], {
      env: {
        ...this.env,
        RABBITMQ_NODENAME: node.name,
        RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
        RABBITMQ_NODE_PORT: String(node.port),
        RABBITMQ_DIST_PORT: String(node.distPort),
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
        RABBITMQ_MNESIA_BASE: join(home, 'mnesia'),
        RABBITMQ_LOG_BASE: join(home, 'log'),
      },
      // A process group of its own, so kill() reaches the VM under the script.
      detached: true,
      stdio: 'ignore',
    });
  }

  /** Until epmd knows the node: its distribution port accepts once it does. */
  private async awaitRegistered(node: Node): Promise<void> {
    await eventually(() => accepts(node.distPort), {
      what: `${node.name} registered`,
      timeoutMs: 60_000,
    });
  }

  private async awaitStartup(node: Node): Promise<void> {
    // await_startup gives up at once on a node epmd does not know yet.
    await this.awaitRegistered(node);
    await this.ctl(node.name, 'await_startup', '--timeout', '60');
  }
}

function urlOf(node: Node): string {
  return `amqp://guest:guest@127.0.0.1:${node.port}`;
}
