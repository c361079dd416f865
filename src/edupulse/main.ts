import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { resolveOutboxOptions } from '../outbox/index.js';
import { loadAppConfig } from './app.config.js';
import { AppModule } from './app.module.js';

async function bootstrap(): Promise<void> {
  const config = loadAppConfig();
  // Fail on a bad outbox variable before anything connects (Nest would find it too, later).
  resolveOutboxOptions();
  // abortOnError: false lets a configuration error reach the catch below as itself.
  const app = await NestFactory.create(AppModule.forRoot(config), { abortOnError: false });
  // SIGTERM runs the shutdown hooks: the relay's batch in flight is marked before exit.
  app.enableShutdownHooks();
  await app.listen(config.port);
  new Logger('EduPulse').log(`Listening on port ${config.port}`);
}

bootstrap().catch((error: unknown) => {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exit(1);
});
