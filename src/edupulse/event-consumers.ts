import type { INestApplication } from '@nestjs/common';
import {
  AckingServerRMQ,
  OUTBOX_OPTIONS,
  ServerJetStream,
  type ResolvedOutboxOptions,
} from '../outbox/index.js';

/** The example's consumer group: its JetStream durable consumers and its RabbitMQ queue. */
export const EDUPULSE_CONSUMER_GROUP = 'edupulse';

/**
 * Makes the app hybrid: its `@EventPattern` handlers consume the events its own relay
 * publishes, from the broker `OUTBOX_TRANSPORT` names, at least once. Call before
 * `app.startAllMicroservices()`.
 */
export function connectEventConsumers(app: INestApplication): void {
  const options = app.get<ResolvedOutboxOptions>(OUTBOX_OPTIONS);
  const strategy =
    options.transport === 'rabbitmq'
      ? new AckingServerRMQ({
          urls: [options.rabbitmqUrl],
          exchange: options.exchange,
          queue: `${options.exchange}.${EDUPULSE_CONSUMER_GROUP}`,
          prefetchCount: 10,
        })
      : new ServerJetStream({
          servers: [...options.natsServers],
          stream: options.stream,
          subjectPrefix: options.subjectPrefix,
          durable: EDUPULSE_CONSUMER_GROUP,
        });
  app.connectMicroservice({ strategy }, { inheritAppConfig: true });
}
