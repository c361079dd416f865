import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import {
  OutboxBacklogHealthIndicator,
  OutboxBrokerHealthIndicator,
  OutboxDatabaseHealthIndicator,
  OutboxRelayHealthIndicator,
} from '../../outbox/index.js';
import { DatabaseConnector } from '../database/database-connector.js';

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
    private readonly connector: DatabaseConnector,
    private readonly indicator: HealthIndicatorService,
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
      () => this.migrations(),
      () => this.broker.isHealthy(),
      () => this.backlog.isHealthy(),
      // Up unless the loop is stuck; its details show a degraded wake-up (behind PgBouncer).
      () => this.relay.isHealthy(),
    ]);
  }

  /** Ready only once the migrations ran: before that, a write would find no table. */
  private migrations() {
    const check = this.indicator.check('edupulse_migrations');
    return this.connector.connected ? check.up() : check.down({ reason: 'not applied yet' });
  }
}
