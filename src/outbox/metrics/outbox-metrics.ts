import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Counter, Histogram, type Registry } from 'prom-client';
import type { DomainEvent } from '../events/domain-event.js';
import type { OutboxBatchReport, OutboxInstrument } from '../instrumentation/outbox-instrument.js';
import type { ClaimedEvent } from '../message/claimed-event.js';
import { locateOutbox } from './locate-outbox.js';
import { RegisteredMetrics } from './registered-metrics.js';
import { OUTBOX_METRICS_MODULE_OPTIONS } from './outbox-metrics-module-definition.js';
import type { OutboxMetricsModuleOptions } from './outbox-metrics-options.interface.js';
import {
  DEFAULT_BATCH_DURATION_BUCKETS,
  DEFAULT_PUBLISH_LAG_BUCKETS,
  OUTBOX_METRICS_REGISTRY,
} from './outbox-metrics.constants.js';

type ByType = Counter<'event_type'>;

/**
 * The counters and histograms of the write path and the relay, fed by the core's
 * instrumentation hooks. The cost on the hot path is one counter increment per event type
 * per call or batch, and one histogram observation per published event.
 * @internal
 */
@Injectable()
export class OutboxMetrics implements OutboxInstrument, OnModuleInit, OnApplicationShutdown {
  private readonly written: ByType;
  private readonly published: ByType;
  private readonly failed: ByType;
  private readonly deadLettered: ByType;
  private readonly duplicates: Counter;
  private readonly attempts: Counter;
  private readonly outageBatches: Counter;
  private readonly batchDuration: Histogram;
  private readonly publishLag: Histogram;
  private readonly owned: RegisteredMetrics;

  constructor(
    @Inject(OUTBOX_METRICS_REGISTRY) registry: Registry,
    @Inject(OUTBOX_METRICS_MODULE_OPTIONS) options: OutboxMetricsModuleOptions,
    private readonly moduleRef: ModuleRef,
  ) {
    this.owned = new RegisteredMetrics(registry, options.prefix);
    const owned = this.owned;
    const byType = (name: string, help: string): ByType =>
      owned.add(name, (id) => new Counter({ ...id, help, labelNames: ['event_type'] }));
    const counter = (name: string, help: string) =>
      owned.add(name, (id) => new Counter({ ...id, help }));

    this.written = byType(
      'outbox_events_written_total',
      'Events inserted into the outbox table by this process, counted at the insert: the events of a transaction that later rolled back are included.',
    );
    this.published = byType(
      'outbox_events_published_total',
      'Events acknowledged by the broker and marked published by this relay (duplicates the broker dropped included).',
    );
    this.failed = byType(
      'outbox_events_failed_total',
      'Failed publishes charged to their event (retry scheduled or given up); broker outages are not charged.',
    );
    this.deadLettered = byType(
      'outbox_events_dead_lettered_total',
      'Events given up by this relay: out of attempts or never publishable, now dead letters.',
    );
    this.duplicates = counter(
      'outbox_events_duplicate_total',
      'Published events the broker already had and dropped (JetStream de-duplication).',
    );
    this.attempts = counter(
      'outbox_publish_attempts_total',
      'Publishes sent to the broker by this relay, whatever their outcome.',
    );
    this.outageBatches = counter(
      'outbox_broker_outage_batches_total',
      'Relay batches that found the broker unavailable; nothing was charged to their events.',
    );
    this.batchDuration = owned.add(
      'outbox_batch_duration_seconds',
      (id) =>
        new Histogram({
          ...id,
          help: 'Duration of one relay batch, from the claim to the commit.',
          buckets: options.batchDurationBuckets ?? DEFAULT_BATCH_DURATION_BUCKETS,
        }),
    );
    this.publishLag = owned.add(
      'outbox_publish_lag_seconds',
      (id) =>
        new Histogram({
          ...id,
          help: "Per published event, from the row's created_at (database clock: the start of the writing transaction) to the commit of the relay batch that published it (relay clock).",
          buckets: options.publishLagBuckets ?? DEFAULT_PUBLISH_LAG_BUCKETS,
        }),
    );
  }

  onModuleInit(): void {
    locateOutbox(this.moduleRef).instrumentation.register(this);
  }

  /** Frees the names, so a later application can register them in the same registry. */
  onApplicationShutdown(): void {
    this.owned.removeAll();
  }

  eventsRecorded(events: readonly DomainEvent[]): void {
    countByType(this.written, events, (e) => e.eventType);
  }

  batchRelayed(report: OutboxBatchReport): void {
    countByType(this.published, report.published, claimedType);
    if (report.failed.length > 0) {
      countByType(this.failed, report.failed, (f) => claimedType(f.event));
      countByType(
        this.deadLettered,
        report.failed.filter((f) => f.gaveUp),
        (f) => claimedType(f.event),
      );
    }
    if (report.duplicates > 0) this.duplicates.inc(report.duplicates);
    if (report.attempts > 0) this.attempts.inc(report.attempts);
    if (report.outage) this.outageBatches.inc();
    this.batchDuration.observe(report.durationMs / 1_000);
    const now = Date.now();
    for (const event of report.published) {
      // The two clocks may disagree slightly; a negative lag is only skew.
      this.publishLag.observe(Math.max(0, now - event.createdAtMs) / 1_000);
    }
  }
}

const claimedType = (event: ClaimedEvent): string => event.message.envelope.event_type;

/** One increment per event type, however many events of that type. */
function countByType<T>(counter: ByType, items: readonly T[], typeOf: (item: T) => string) {
  if (items.length === 1) {
    counter.inc({ event_type: typeOf(items[0]) });
    return;
  }
  const counts = new Map<string, number>();
  for (const item of items) {
    const type = typeOf(item);
    counts.set(type, (counts.get(type) ?? 0) + 1);
  }
  for (const [type, count] of counts) counter.inc({ event_type: type }, count);
}
