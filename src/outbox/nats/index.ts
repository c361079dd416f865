// The `nestjs-pg-outbox/nats` entry point: NATS JetStream. `@nats-io/jetstream` and
// `@nats-io/transport-node` are optional peer dependencies that only this entry point loads.

// Publishing: the transport for `OutboxModule.forRoot({ transport })`.
export {
  natsTransport,
  natsTransportFromEnv,
  natsTransportOptionsFromEnv,
} from './nats-transport.js';
export type { NatsTransportOptions } from './nats-transport.options.js';
export { ClientJetStream, type ClientJetStreamOptions } from './client-jetstream.js';
export type { PubAckOutcome } from './pub-ack-reader.js';

// Consuming: a Nest microservice strategy that acks only what its handler completed.
export { ServerJetStream, type ServerJetStreamOptions } from './server-jetstream.js';
export { JetStreamContext } from './jetstream.context.js';
