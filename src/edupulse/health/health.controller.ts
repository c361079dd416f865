import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import {
  OutboxBacklogHealthIndicator,
  OutboxBrokerHealthIndicator,
  OutboxDatabaseHealthIndicator,
  OutboxRelayHealthIndicator,
} from '../../outbox/index.js';

/**
 * Probes for Kubernetes. Liveness asks only "is the relay loop stuck?", so an outage of NATS
 * or PostgreSQL (which a restart cannot fix) never restarts every pod at once; readiness
 * covers the dependencies and the backlog.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly relay: OutboxRelayHealthIndicator,
    private readonly database: OutboxDatabaseHealthIndicator,
    private readonly broker: OutboxBrokerHealthIndicator,
    private readonly backlog: OutboxBacklogHealthIndicator,
  ) {}

  /** The process is up and serving HTTP. */
  @Get()
  check() {
    return { status: 'ok' };
  }

  @Get('live')
  @HealthCheck()
  live() {
    return this.health.check([() => this.relay.isHealthy()]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.database.isHealthy(),
      () => this.broker.isHealthy(),
      () => this.backlog.isHealthy(),
    ]);
  }
}
