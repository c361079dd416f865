import { Controller, Get } from '@nestjs/common';

@Controller('health')
export class HealthController {
  /** The process is up and serving HTTP; dependency checks belong to readiness. */
  @Get()
  check() {
    return { status: 'ok' };
  }
}
