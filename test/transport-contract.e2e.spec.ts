import { NatsJetStreamTransport } from '../src/outbox/nats/nats-jetstream.transport.js';
import { RabbitMqTransport } from '../src/outbox/rabbitmq/rabbitmq.transport.js';
import { contractMessage, describeTransportContract } from '../src/outbox/testing/index.js';
import type { OutboxTransportContext } from '../src/outbox/index.js';
import { TestStream } from './support/jetstream.js';
import { freePort } from './support/ports.js';
import { TEST_RABBITMQ_URL, TestExchange } from './support/rabbitmq.js';

const context: OutboxTransportContext = {
  publishTimeoutMs: 2_000,
  messageFormat: { messageFormat: 'envelope' },
};

describeTransportContract('the NATS JetStream adapter', async () => {
  const stream = await new TestStream().connect();
  // Messages over 2,000 bytes are refused by the stream: one the broker can never take.
  await stream.create({ max_msg_size: 2_000 });
  const options = {
    servers: [stream.natsUrl],
    stream: stream.stream,
    subjectPrefix: stream.subjectPrefix,
    createStream: false,
    duplicateWindowMs: 120_000,
    streamReplicas: 1,
  };
  const transport = new NatsJetStreamTransport(options, context);
  const unreachable = new NatsJetStreamTransport(
    { ...options, servers: [`nats://127.0.0.1:${await freePort()}`] },
    context,
  );
  const tooBig = contractMessage(99);
  return {
    transport,
    unreachable,
    unpublishable: { ...tooBig, envelope: { ...tooBig.envelope, payload: 'x'.repeat(4_000) } },
    storedEventIds: async () => (await stream.messages()).map((m) => m.msgId ?? ''),
    close: async () => {
      await transport.onApplicationShutdown();
      await unreachable.onApplicationShutdown();
      await stream.destroy();
    },
  };
});

describeTransportContract('the RabbitMQ adapter', async () => {
  const exchange = await new TestExchange().connect();
  const queue = await exchange.bindQueue('#');
  const stored: string[] = [];
  const url = new URL(TEST_RABBITMQ_URL);
  const options = { urls: [TEST_RABBITMQ_URL], exchange: exchange.exchange };
  const transport = new RabbitMqTransport(options, context);
  url.port = String(await freePort());
  const unreachable = new RabbitMqTransport({ ...options, urls: [url.toString()] }, context);
  const tooLong = contractMessage(99);
  return {
    transport,
    unreachable,
    // A routing key over 255 characters: amqplib refuses to send it.
    unpublishable: {
      ...tooLong,
      envelope: { ...tooLong.envelope, event_type: `contract.${'x'.repeat(300)}` },
    },
    secrets: [new URL(TEST_RABBITMQ_URL).password].filter(Boolean),
    storedEventIds: async () => {
      stored.push(...(await exchange.take(queue)).map((m) => m.messageId ?? ''));
      return stored;
    },
    close: async () => {
      await transport.onApplicationShutdown();
      await unreachable.onApplicationShutdown();
      await exchange.destroy();
    },
  };
});
