import type { INestApplication } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { ConsumerMetrics, OUTBOX_METRICS_REGISTRY } from '../outbox/metrics/index.js';
import { ServerJetStream } from '../outbox/nats/index.js';
import { AckingServerRMQ } from '../outbox/rabbitmq/index.js';
import type { EdupulseOutboxConfig } from './outbox.config.js';

/** The example's consumer group: its JetStream durable consumers and its RabbitMQ queue. */
export const EDUPULSE_CONSUMER_GROUP = 'edupulse';

/**
 * Makes the app hybrid: its `@EventPattern` handlers consume the events its own relay
 * publishes, from the broker `OUTBOX_TRANSPORT` names, at least once. Call before
 * `app.startAllMicroservices()`. Their redeliveries and dead letters are counted on the same
 * `GET /metrics` as the relay's.
 */
export function connectEventConsumers(app: INestApplication, config: EdupulseOutboxConfig): void {
  const instrument = new ConsumerMetrics({ registry: app.get<Registry>(OUTBOX_METRICS_REGISTRY) });
  const strategy =
    config.broker === 'rabbitmq'
      ? new AckingServerRMQ({
          urls: [...(config.rabbitmq.urls ?? [])],
          exchange: config.rabbitmq.exchange!,
          queue: `${config.rabbitmq.exchange}.${EDUPULSE_CONSUMER_GROUP}`,
          prefetchCount: 10,
          instrument,
        })
      : new ServerJetStream({
          servers: [...(config.nats.servers ?? [])],
          stream: config.nats.stream!,
          subjectPrefix: config.nats.subjectPrefix!,
          durable: EDUPULSE_CONSUMER_GROUP,
          instrument,
        });
  app.connectMicroservice({ strategy }, { inheritAppConfig: true });
}
