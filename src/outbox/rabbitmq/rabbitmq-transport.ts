import { resolveSettings, settingsFromEnv, type Environment } from '../config/setting.js';
import type { OutboxTransportFactory } from '../transport/outbox-transport.js';
import { RabbitMqTransport } from './rabbitmq.transport.js';
import type { RabbitMqTransportOptions } from './rabbitmq-transport.options.js';
import { RABBITMQ_TRANSPORT_SETTINGS } from './rabbitmq-transport.settings.js';

/**
 * The RabbitMQ transport, for `OutboxModule.forRoot({ transport })`. Validated here, so a bad
 * option fails where it is written.
 * ```ts
 * OutboxModule.forRoot({ transport: rabbitmqTransport({ urls: ['amqp://rabbit'], exchange: 'shop.events' }) })
 * ```
 * @publicApi
 */
export function rabbitmqTransport(options: RabbitMqTransportOptions = {}): OutboxTransportFactory {
  const resolved = Object.freeze(
    resolveSettings(RABBITMQ_TRANSPORT_SETTINGS, options, 'rabbitmqTransport'),
  );
  return (context) => new RabbitMqTransport(resolved, context);
}

/**
 * `rabbitmqTransport()` configured from `RABBITMQ_URL` and `OUTBOX_EXCHANGE`; `defaults` are
 * the application's own for unset variables. Throws one `OutboxConfigError` naming every bad
 * variable, never echoing a URL.
 * @publicApi
 */
export function rabbitmqTransportFromEnv(
  env: Environment,
  defaults?: RabbitMqTransportOptions,
): OutboxTransportFactory {
  return rabbitmqTransport(rabbitmqTransportOptionsFromEnv(env, defaults));
}

/** The options `rabbitmqTransportFromEnv` reads, for a consumer that shares them. @publicApi */
export function rabbitmqTransportOptionsFromEnv(
  env: Environment,
  defaults?: RabbitMqTransportOptions,
): RabbitMqTransportOptions {
  return settingsFromEnv(RABBITMQ_TRANSPORT_SETTINGS, env, defaults);
}
