import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { CronTime } from 'cron';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OUTBOX_OPTIONS } from '../outbox.constants.js';
import { OutboxRelayService } from '../relay/outbox-relay.service.js';
import { OutboxWakeupService } from '../wakeup/outbox-wakeup.service.js';

/**
 * "Is the relay loop stuck?": time since it last finished a tick or committed a batch,
 * against `healthRelayStallPeriods` cron periods. It reads only this process's memory, so a
 * broker or database outage (during which ticks still complete, with errors) never fails it:
 * use it for liveness, where a failure means "restart me". Its details also say whether the
 * LISTEN/NOTIFY wake-up works (`wakeup.degraded`), which readiness may show.
 * @publicApi
 */
@Injectable()
export class OutboxRelayHealthIndicator {
  private readonly stallLimitMs: number;

  constructor(
    private readonly health: HealthIndicatorService,
    private readonly relay: OutboxRelayService,
    private readonly wakeup: OutboxWakeupService,
    @Inject(OUTBOX_OPTIONS) options: ResolvedOutboxOptions,
  ) {
    this.stallLimitMs = cronPeriodMs(options.relayCron) * options.healthRelayStallPeriods;
  }

  isHealthy<const Key extends string = 'outbox_relay'>(
    key: Key = 'outbox_relay' as Key,
  ): HealthIndicatorResult<Key> {
    const indicator = this.health.check(key);
    const status = this.relay.getStatus();
    if (!status.enabled) return indicator.up({ enabled: false });

    const now = Date.now();
    const ago = (date: Date | null) => (date ? now - date.getTime() : null);
    const lastSign = Math.max(
      status.since.getTime(),
      status.lastTickCompletedAt?.getTime() ?? 0,
      status.lastProgressAt?.getTime() ?? 0,
    );
    const details = {
      lastTickAgoMs: ago(status.lastTickCompletedAt),
      lastProgressAgoMs: ago(status.lastProgressAt),
      stallLimitMs: this.stallLimitMs,
      running: status.running,
      publishedTotal: status.publishedTotal,
      lastError: status.lastError,
      // A degraded wake-up costs latency, not events: the cron tick still relays. It shows
      // here, and stays up.
      wakeup: this.wakeup.state(),
    };
    if (now - lastSign > this.stallLimitMs) {
      return indicator.down({
        ...details,
        message: `no relay tick completed for ${now - lastSign} ms (limit ${this.stallLimitMs} ms)`,
      });
    }
    return indicator.up(details);
  }
}

/** The longest gap between two of the next few firings of a cron expression. */
function cronPeriodMs(expression: string): number {
  const firings = new CronTime(expression).sendAt(4).map((d) => d.toMillis());
  let period = 0;
  for (let i = 1; i < firings.length; i++) period = Math.max(period, firings[i] - firings[i - 1]);
  return period;
}
