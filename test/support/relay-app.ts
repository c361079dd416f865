import type { INestApplicationContext, ModuleMetadata } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  OutboxModule,
  OutboxRelayService,
  OutboxRepository,
  type OutboxModuleExtras,
} from '../../src/outbox/index.js';
import { CapturingLogger } from './capturing-logger.js';
import { outboxOptions, type TestOutboxOptions } from './outbox-options.js';
import { TEST_DATABASE_URL } from './test-env.js';

export interface RelayApp {
  readonly app: INestApplicationContext;
  readonly relay: OutboxRelayService;
  readonly repository: OutboxRepository;
  readonly logger: CapturingLogger;
}

/**
 * A Nest application context with TypeORM and the outbox, configured only through `options`
 * (the library reads no environment), so nothing from the developer's shell leaks into a test. `imports` adds
 * modules next to them, such as an integration that needs `OutboxModule` global.
 */
export async function startRelayApp(
  options: TestOutboxOptions & OutboxModuleExtras,
  {
    applicationName = 'outbox-test',
    imports = [],
    databaseUrl = TEST_DATABASE_URL,
    poolSize,
  }: {
    applicationName?: string;
    imports?: ModuleMetadata['imports'];
    databaseUrl?: string;
    /** Connections in the DataSource's pool (pg's default is 10). */
    poolSize?: number;
  } = {},
): Promise<RelayApp> {
  const logger = new CapturingLogger();
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: databaseUrl,
        retryAttempts: 0,
        // Lets a fault test find (and terminate) this app's connections.
        extra: { application_name: applicationName, ...(poolSize && { max: poolSize }) },
      }),
      OutboxModule.forRoot({
        ...outboxOptions(options),
        isGlobal: options.isGlobal,
        dataSourceName: options.dataSourceName,
      }),
      ...imports,
    ],
  })
    .setLogger(logger)
    .compile();
  await moduleRef.init();
  return {
    app: moduleRef,
    relay: moduleRef.get(OutboxRelayService),
    repository: moduleRef.get(OutboxRepository),
    logger,
  };
}
