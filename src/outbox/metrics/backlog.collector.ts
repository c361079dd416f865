import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Gauge, type Registry } from 'prom-client';
import { errorMessage } from '../errors/error-text.js';
import type { OutboxBacklog } from '../table/outbox-backlog.reader.js';
import { withTimeout } from '../utils/with-timeout.js';
import { locateOutbox, type LocatedOutbox } from './locate-outbox.js';
import { OUTBOX_METRICS_MODULE_OPTIONS } from './outbox-metrics-module-definition.js';
import type { OutboxMetricsModuleOptions } from './outbox-metrics-options.interface.js';
import { OUTBOX_METRICS_REGISTRY } from './outbox-metrics.constants.js';
import { RegisteredMetrics } from './registered-metrics.js';

/**
 * The backlog gauges, computed when the registry is scraped. A scrape costs one capped
 * query on the partial indexes (`OutboxBacklogReader.backlog`, the query of backlog health),
 * shared by all the gauges, and waits for it at most `OUTBOX_HEALTH_TIMEOUT_MS`. At most one
 * such query runs at a time: while a slow one is still running, the next scrape waits for it
 * instead of starting another, so a struggling database never collects a pile of them.
 * @internal
 */
@Injectable()
export class OutboxBacklogCollector implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(OutboxBacklogCollector.name);
  private readonly owned: RegisteredMetrics;
  private outbox: LocatedOutbox | undefined;
  /** The query itself, until it settles (it may outlive the scrape that started it). */
  private query: Promise<OutboxBacklog> | undefined;
  /** This scrape's answer, shared by the gauges collected in it. */
  private sample: Promise<OutboxBacklog | undefined> | undefined;
  private failing = false;

  constructor(
    @Inject(OUTBOX_METRICS_REGISTRY) registry: Registry,
    @Inject(OUTBOX_METRICS_MODULE_OPTIONS) options: OutboxMetricsModuleOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    this.owned = new RegisteredMetrics(registry, options.prefix);
    // The cap is known only once the outbox is found; the help text names its setting.
    this.gauge(
      'outbox_backlog_events',
      'Pending events (neither published nor dead letters), counted up to OUTBOX_HEALTH_COUNT_CAP: at the cap, read it as "at least". NaN when the query failed.',
      (backlog) => backlog.pending,
    );
    this.gauge(
      'outbox_oldest_pending_age_seconds',
      'Age of the oldest pending event by the database clock; 0 without backlog. NaN when the query failed.',
      (backlog) => (backlog.oldestPendingAgeMs ?? 0) / 1_000,
    );
    this.gauge(
      'outbox_dead_letters',
      'Dead letters (events given up) in the table, counted up to OUTBOX_HEALTH_COUNT_CAP. NaN when the query failed.',
      (backlog) => backlog.failed,
    );
    this.gauge(
      'outbox_backlog_up',
      'Whether the backlog query of this scrape answered within OUTBOX_HEALTH_TIMEOUT_MS (1) or not (0).',
      () => 1,
      0,
    );
  }

  onModuleInit(): void {
    this.outbox = locateOutbox(this.moduleRef);
  }

  onApplicationShutdown(): void {
    this.owned.removeAll();
  }

  private gauge(
    name: string,
    help: string,
    value: (backlog: OutboxBacklog) => number,
    unknown = Number.NaN,
  ): void {
    this.owned.add(name, (id) => {
      const gauge: Gauge = new Gauge({
        ...id,
        help,
        collect: async () => {
          const backlog = await this.scrape();
          gauge.set(backlog ? value(backlog) : unknown);
        },
      });
      return gauge;
    });
  }

  /** One answer per scrape: the gauges are collected concurrently and share it. */
  private scrape(): Promise<OutboxBacklog | undefined> {
    this.sample ??= this.measure().finally(() => {
      this.sample = undefined;
    });
    return this.sample;
  }

  private async measure(): Promise<OutboxBacklog | undefined> {
    const outbox = this.outbox;
    // Before start-up finished, or while the application still connects in the background.
    if (!outbox?.dataSource.isInitialized) return undefined;
    const { backlogReader, dataSource, options } = outbox;
    this.query ??= backlogReader.backlog(dataSource.manager, options.healthCountCap).finally(() => {
      this.query = undefined;
    });
    try {
      const backlog = await withTimeout(this.query, options.healthTimeoutMs);
      if (this.failing) this.logger.log('Outbox backlog query answers again');
      this.failing = false;
      return backlog;
    } catch (error) {
      // Once per streak: a scrape every few seconds must not flood the log.
      if (!this.failing) {
        this.logger.warn(
          `Outbox backlog query failed, the gauges read NaN until it answers: ${errorMessage(error)}`,
        );
      }
      this.failing = true;
      return undefined;
    }
  }
}
