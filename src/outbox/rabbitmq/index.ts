// The `nestjs-pg-outbox/rabbitmq` entry point. `amqplib` and `amqp-connection-manager` are
// optional peer dependencies that only this entry point loads.

// Publishing: the transport for `OutboxModule.forRoot({ transport })`.
export {
  rabbitmqTransport,
  rabbitmqTransportFromEnv,
  rabbitmqTransportOptionsFromEnv,
} from './rabbitmq-transport.js';
export type { RabbitMqTransportOptions } from './rabbitmq-transport.options.js';

// Consuming: a Nest microservice strategy that acks only what its handler completed.
export { AckingServerRMQ, type AckingServerRmqOptions } from './acking-server-rmq.js';
export { RmqEnvelopeDeserializer } from './rmq-envelope.deserializer.js';
