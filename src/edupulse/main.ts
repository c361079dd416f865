import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { loadAppConfig } from './app.config.js';
import { AppModule } from './app.module.js';
import { connectEventConsumers } from './event-consumers.js';
import { createAppLogger, logFormatFromEnv, type AppLogger } from './logging.js';
import { outboxConfigFromEnv } from './outbox.config.js';

/** Set with LOG_FORMAT=json, so that even a configuration error is logged as JSON. */
let jsonLogger: AppLogger | undefined;

async function bootstrap(): Promise<void> {
  const logFormat = logFormatFromEnv(process.env);
  const logger = createAppLogger(logFormat);
  if (logFormat === 'json') jsonLogger = logger;
  Logger.overrideLogger(logger);
  const config = loadAppConfig();
  // Fail on a bad outbox variable before anything connects (Nest would find it too, later).
  const outbox = outboxConfigFromEnv(process.env);
  // abortOnError: false lets a configuration error reach the catch below as itself.
  const app = await NestFactory.create(AppModule.forRoot(config), { abortOnError: false, logger });
  // The service consumes its own events too (PulseStatsConsumer): a hybrid application.
  connectEventConsumers(app, outbox);
  // SIGTERM runs the shutdown hooks: the relay's batch in flight is marked before exit.
  app.enableShutdownHooks();
  await app.listen(config.port);
  new Logger('EduPulse').log(`Listening on port ${config.port}`, { port: config.port, logFormat });
  // After listen: HTTP and its probes serve even while the broker is away (the consumer
  // connects in the background).
  await app.startAllMicroservices();
}

bootstrap().catch((error: unknown) => {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (jsonLogger) jsonLogger.fatal(message, 'EduPulse');
  else console.error(message);
  process.exit(1);
});
