// The service with only the NATS peers installed.
import { natsTransport } from 'nestjs-pg-outbox/nats';
import { runService, type ServiceConfig } from './service.js';

const config = JSON.parse(process.argv[2]) as ServiceConfig;
runService(
  config,
  natsTransport({
    servers: [config.broker.url],
    stream: config.broker.stream,
    subjectPrefix: config.broker.subjectPrefix,
  }),
).catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
