import {
  type DynamicModule,
  type MiddlewareConsumer,
  Module,
  type NestModule,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { OutboxModule } from '../outbox/index.js';
import { OutboxInboxModule } from '../outbox/inbox/index.js';
import { outboxConfigFromEnv } from './outbox.config.js';
import type { AppConfig } from './app.config.js';
import { JsonOnlyMiddleware } from './common/json-only.middleware.js';
import { OutboxErrorFilter } from './common/outbox-error.filter.js';
import { DatabaseModule } from './database/database.module.js';
import { HealthController } from './health/health.controller.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { LearningPulse } from './pulses/learning-pulse.entity.js';
import { PulseStats } from './pulses/pulse-stats.entity.js';
import { PulsesModule } from './pulses/pulses.module.js';
import { Submission } from './pulses/submission.entity.js';

@Module({})
export class AppModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(JsonOnlyMiddleware).forRoutes('*');
  }

  /** `env` is where the outbox, inbox and broker settings are read from; tests pass their own. */
  static forRoot(
    config: AppConfig,
    env: Record<string, string | undefined> = process.env,
  ): DynamicModule {
    const outbox = outboxConfigFromEnv(env);
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: config.databaseUrl,
          ...(config.databaseSchema && { schema: config.databaseSchema }),
          entities: [LearningPulse, Submission, PulseStats],
          migrations: MIGRATIONS,
          // DatabaseConnector connects and migrates in the background, so the service starts
          // (and reports unready) while PostgreSQL is away instead of crash-looping.
          manualInitialization: true,
          // A black-holed database must not hang a request or a relay tick.
          extra: {
            connectionTimeoutMillis: 5_000,
            ...(config.databaseSchema && { options: `-c search_path=${config.databaseSchema}` }),
          },
        }),
        OutboxModule.forRoot({ ...outbox.outbox, isGlobal: true }),
        // The service consumes its own events idempotently (PulseStatsConsumer).
        OutboxInboxModule.forRoot({ ...outbox.inbox, isGlobal: true }),
        DatabaseModule,
        PulsesModule,
        MetricsModule,
        TerminusModule.forRoot({ errorLogStyle: 'pretty' }),
      ],
      controllers: [HealthController],
      providers: [{ provide: APP_FILTER, useClass: OutboxErrorFilter }],
    };
  }
}
