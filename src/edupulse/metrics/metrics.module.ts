import { Module } from '@nestjs/common';
import { OutboxMetricsModule } from '../../outbox/metrics/index.js';
import { MetricsController } from './metrics.controller.js';

/** The outbox's Prometheus metrics (prom-client's global registry), served on `GET /metrics`. */
@Module({
  imports: [OutboxMetricsModule.forRoot()],
  controllers: [MetricsController],
})
export class MetricsModule {}
