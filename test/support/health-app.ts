import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import request from 'supertest';
import { eventually } from './eventually.js';
import { DatabaseConnector } from '../../src/edupulse/database/database-connector.js';
import { DatabaseModule } from '../../src/edupulse/database/database.module.js';
import { HealthController } from '../../src/edupulse/health/health.controller.js';
import { OutboxModule, OutboxRepository } from '../../src/outbox/index.js';
import { outboxOptions, type TestOutboxOptions } from './outbox-options.js';
import { TEST_DATABASE_URL } from './test-env.js';

export interface HealthApp {
  readonly app: INestApplication;
  readonly repository: OutboxRepository;
  get(path: string): Promise<{ status: number; body: HealthBody }>;
}

export interface HealthBody {
  status: string;
  info?: Record<string, Record<string, unknown>>;
  error?: Record<string, Record<string, unknown>>;
  details: Record<string, Record<string, unknown>>;
}

/** An HTTP app serving the example service's health controller over the outbox module. */
export async function startHealthApp(options: TestOutboxOptions): Promise<HealthApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: TEST_DATABASE_URL, retryAttempts: 0 }),
      OutboxModule.forRoot({ ...outboxOptions(options), isGlobal: true }),
      TerminusModule.forRoot({ logger: false }),
      // The controller's readiness also asks whether the (here: no) migrations have run.
      DatabaseModule,
    ],
    controllers: [HealthController],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  await eventually(() => app.get(DatabaseConnector).connected, { what: 'the DatabaseConnector' });
  const server = app.getHttpServer() as Parameters<typeof request>[0];
  return {
    app,
    repository: app.get(OutboxRepository),
    get: async (path) => {
      const res = await request(server).get(path);
      return { status: res.status, body: res.body as HealthBody };
    },
  };
}
