import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { eventually } from './eventually.js';
import { freePort } from './ports.js';

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';

export interface PrometheusAlert {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly state: 'pending' | 'firing';
  readonly activeAt: string;
  readonly value: string;
}

export interface PrometheusRuleStatus {
  readonly name: string;
  readonly health: 'ok' | 'err' | 'unknown';
  readonly lastError?: string;
  readonly type: 'recording' | 'alerting';
}

/**
 * A Prometheus server of the test's own: a free loopback port, its own configuration, rules and
 * data directory (all under one temporary directory, removed by `destroy()`).
 */
export class PrivatePrometheus {
  readonly dir = mkdtempSync(join(tmpdir(), 'outbox-prometheus-'));
  port = 0;
  /** What the server printed, for a failing test's message. */
  readonly output: string[] = [];
  private process: ChildProcess | undefined;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Scrapes `targets` (host:port, GET /metrics) as job `job`, and evaluates `rules`. */
  async start({
    job,
    targets,
    rules,
    interval = '1s',
  }: {
    job: string;
    targets: string[];
    rules: unknown;
    interval?: string;
  }): Promise<this> {
    if (!existsSync(PROMETHEUS)) {
      throw new Error(`${PROMETHEUS} not found: install the Debian package "prometheus"`);
    }
    this.port = await freePort();
    const rulesFile = join(this.dir, 'rules.yml');
    const configFile = join(this.dir, 'prometheus.yml');
    writeFileSync(rulesFile, stringify(rules));
    writeFileSync(
      configFile,
      stringify({
        global: {
          scrape_interval: interval,
          scrape_timeout: interval,
          evaluation_interval: interval,
        },
        rule_files: [rulesFile],
        scrape_configs: [
          { job_name: job, metrics_path: '/metrics', static_configs: [{ targets }] },
        ],
      }),
    );
    const child = spawn(
      PROMETHEUS,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.process = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => this.output.push(chunk.toString()));
    }
    await eventually(
      async () => {
        if (child.exitCode !== null) {
          throw new Error(`prometheus exited with ${child.exitCode}: ${this.output.join('')}`);
        }
        return (await fetch(`${this.url}/-/ready`)).ok;
      },
      { what: `prometheus on ${this.port}`, timeoutMs: 30_000, intervalMs: 200 },
    );
    return this;
  }

  private async api<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}/api/v1/${path}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error}`);
    return body.data;
  }

  /** An instant query: each series' labels and value. */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const data = await this.api<{
      result: { metric: Record<string, string>; value: [number, string] }[];
    }>(`query?query=${encodeURIComponent(expr)}`);
    return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** Alerts pending or firing now (`GET /api/v1/alerts`). */
  async alerts(): Promise<PrometheusAlert[]> {
    return (await this.api<{ alerts: PrometheusAlert[] }>('alerts')).alerts;
  }

  /** Every loaded rule with its health (`GET /api/v1/rules`). */
  async rules(): Promise<PrometheusRuleStatus[]> {
    const data = await this.api<{ groups: { rules: PrometheusRuleStatus[] }[] }>('rules');
    return data.groups.flatMap((g) => g.rules);
  }

  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    this.process = undefined;
  }

  /** Stops the server and removes its directory, data included. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
