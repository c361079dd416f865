import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { scheduleJob, unscheduleJob } from '../utils/scheduled-job.js';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OUTBOX_OPTIONS, OUTBOX_RELAY_JOB } from '../outbox.constants.js';
import { OutboxRelayService } from './outbox-relay.service.js';
import { OutboxWakeupService } from '../wakeup/outbox-wakeup.service.js';

/**
 * Registers the relay's tick with `SchedulerRegistry`. The job is added at bootstrap rather
 * than with `@Cron()`, because a decorator reads its expression when the file is imported,
 * before configuration is known.
 */
@Injectable()
export class OutboxRelayScheduler
  implements OnApplicationBootstrap, OnModuleDestroy, BeforeApplicationShutdown
{
  private readonly logger = new Logger(OutboxRelayScheduler.name);

  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
    private readonly registry: SchedulerRegistry,
    private readonly relay: OutboxRelayService,
    private readonly wakeup: OutboxWakeupService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.options.relayEnabled) return;
    scheduleJob(this.registry, OUTBOX_RELAY_JOB, this.options.relayCron, () => this.relay.tick());
    const wakeup = this.options.relayWakeup === 'notify' ? ', woken by LISTEN/NOTIFY' : '';
    this.logger.log(`Relay scheduled (${this.options.relayCron}${wakeup})`);
    // Do not wait for the first tick: publish what is already pending right away.
    void this.relay.drain();
  }

  /** The first shutdown hook: no new batch starts from here on. */
  onModuleDestroy(): void {
    this.relay.requestStop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await unscheduleJob(this.registry, OUTBOX_RELAY_JOB);
    // Nest's scheduler stops jobs without waiting for them; the batch in flight is awaited
    // here so that it is marked before the connections close.
    await this.relay.stop();
    await this.wakeup.stop();
  }
}
