import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { errorMessage } from '../errors/error-text.js';
import { OUTBOX_OPTIONS } from '../outbox.constants.js';
import { OUTBOX_TRANSPORT, type OutboxTransport } from '../transport/outbox-transport.js';

/**
 * The broker as the relay sees it: the application's own client (unlike terminus'
 * `MicroserviceHealthIndicator`, which opens a new connection per probe), its status, a
 * bounded round trip and, for JetStream, the stream. For readiness.
 * @publicApi
 */
@Injectable()
export class OutboxBrokerHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    @Inject(OUTBOX_TRANSPORT) private readonly transport: OutboxTransport,
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
  ) {}

  isHealthy<const Key extends string = 'outbox_broker'>(key: Key = 'outbox_broker' as Key) {
    return this.health
      .check(key)
      .attempt(async () => {
        try {
          return await this.transport.checkHealth();
        } catch (error) {
          throw new Error(`${this.transport.name}: ${errorMessage(error)}`, { cause: error });
        }
      })
      .withTimeout(this.options.healthTimeoutMs);
  }
}
