import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { eventually } from './eventually.js';
import { accepts, freePort } from './ports.js';

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

interface Node {
  readonly name: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly storeDir: string;
  process?: ChildProcess;
}

/**
 * A JetStream cluster of the test's own: `size` nats-server nodes on free loopback ports,
 * routed to each other, each with its own store. A node can be SIGKILLed by name.
 */
export class NatsCluster {
  private readonly dir = mkdtempSync(join(tmpdir(), 'outbox-nats-cluster-'));
  private readonly nodes: Node[] = [];
  private readonly name = `outbox_${Math.random().toString(36).slice(2, 8)}`;

  constructor(private readonly size = 3) {}

  get urls(): string[] {
    return this.nodes.map((n) => `nats://127.0.0.1:${n.port}`);
  }

  /** The client URLs of the nodes still running. */
  get liveUrls(): string[] {
    return this.nodes.filter((n) => n.process).map((n) => `nats://127.0.0.1:${n.port}`);
  }

  async start(): Promise<this> {
    if (!existsSync(NATS_SERVER)) throw new Error(`${NATS_SERVER} not found: .ci/run installs it`);
    for (let i = 0; i < this.size; i++) {
      this.nodes.push({
        name: `${this.name}_n${i}`,
        port: await freePort(),
        clusterPort: await freePort(),
        storeDir: join(this.dir, `n${i}`),
      });
    }
    for (const node of this.nodes) this.spawn(node);
    await eventually(
      async () => (await Promise.all(this.nodes.map((n) => accepts(n.port)))).every(Boolean),
      { what: 'every cluster node accepting clients' },
    );
    // JetStream answers only once the cluster elected its meta leader.
    const nc = await connect({ servers: this.urls });
    try {
      await eventually(() => jetstreamManager(nc, { timeout: 1_000 }).then(() => true), {
        what: 'the JetStream meta leader',
        timeoutMs: 60_000,
      });
    } finally {
      await nc.close();
    }
    return this;
  }

  /** SIGKILLs the node named `name` (as JetStream reports it, e.g. a stream's leader). */
  async kill(name: string): Promise<void> {
    const node = this.nodes.find((n) => n.name === name);
    if (!node?.process) throw new Error(`no running node ${name}`);
    const exited = new Promise((resolve) => node.process!.once('exit', resolve));
    node.process.kill('SIGKILL');
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
    const routes = this.nodes
      .filter((n) => n !== node)
      .map((n) => `nats://127.0.0.1:${n.clusterPort}`)
      .join(',');
    node.process = spawn(
      NATS_SERVER,
      [
        ...['-a', '127.0.0.1', '-p', String(node.port), '-n', node.name, '-js'],
        ...['-sd', node.storeDir, '--cluster_name', this.name],
        ...['--cluster', `nats://127.0.0.1:${node.clusterPort}`, '--routes', routes],
      ],
      { stdio: 'ignore' },
    );
  }
}
