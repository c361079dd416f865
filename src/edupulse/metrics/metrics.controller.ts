import { Controller, Get, Inject, Res } from '@nestjs/common';
import type { Response } from 'express';
import type { Registry } from 'prom-client';
import { OUTBOX_METRICS_REGISTRY } from '../../outbox/metrics/index.js';

/** `GET /metrics` for Prometheus: the registry the outbox metrics live in. */
@Controller('metrics')
export class MetricsController {
  constructor(@Inject(OUTBOX_METRICS_REGISTRY) private readonly registry: Registry) {}

  @Get()
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.setHeader('Content-Type', this.registry.contentType);
    return this.registry.metrics();
  }
}
