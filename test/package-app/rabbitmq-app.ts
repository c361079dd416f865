// The service with only the RabbitMQ peers installed.
import { rabbitmqTransport } from 'nestjs-pg-outbox/rabbitmq';
import { runService, type ServiceConfig } from './service.js';

const config = JSON.parse(process.argv[2]) as ServiceConfig;
runService(
  config,
  rabbitmqTransport({ urls: [config.broker.url], exchange: config.broker.exchange }),
).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
