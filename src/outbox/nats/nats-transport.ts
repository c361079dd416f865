import { resolveSettings, settingsFromEnv, type Environment } from '../config/setting.js';
import type { OutboxTransportFactory } from '../transport/outbox-transport.js';
import { NatsJetStreamTransport } from './nats-jetstream.transport.js';
import type { NatsTransportOptions } from './nats-transport.options.js';
import { NATS_TRANSPORT_SETTINGS } from './nats-transport.settings.js';

/**
 * The NATS JetStream transport, for `OutboxModule.forRoot({ transport })`. Validated here, so
 * a bad option fails where it is written.
 * ```ts
 * OutboxModule.forRoot({ transport: natsTransport({ servers: ['nats://nats:4222'], stream: 'SHOP' }) })
 * ```
 * @publicApi
 */
export function natsTransport(options: NatsTransportOptions = {}): OutboxTransportFactory {
  const resolved = Object.freeze(
    resolveSettings(NATS_TRANSPORT_SETTINGS, options, 'natsTransport'),
  );
  return (context) => new NatsJetStreamTransport(resolved, context);
}

/**
 * `natsTransport()` configured from `NATS_SERVERS`, `OUTBOX_SUBJECT_PREFIX`, `OUTBOX_STREAM`,
 * `OUTBOX_STREAM_CREATE` and `OUTBOX_STREAM_DUPLICATE_WINDOW_MS`; `defaults` are the
 * application's own for unset variables. Throws one `OutboxConfigError` naming every bad
 * variable.
 * @publicApi
 */
export function natsTransportFromEnv(
  env: Environment,
  defaults?: NatsTransportOptions,
): OutboxTransportFactory {
  return natsTransport(natsTransportOptionsFromEnv(env, defaults));
}

/** The options `natsTransportFromEnv` reads, for a consumer that shares them. @publicApi */
export function natsTransportOptionsFromEnv(
  env: Environment,
  defaults?: NatsTransportOptions,
): NatsTransportOptions {
  return settingsFromEnv(NATS_TRANSPORT_SETTINGS, env, defaults);
}
