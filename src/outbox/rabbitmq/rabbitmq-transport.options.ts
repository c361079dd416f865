import type { SettingsInput, SettingsOutput } from '../config/setting.js';
import type { RABBITMQ_TRANSPORT_SETTINGS } from './rabbitmq-transport.settings.js';

/**
 * Options of `rabbitmqTransport()`: `{ urls, exchange }`, each described with its default in
 * `RABBITMQ_TRANSPORT_SETTINGS`.
 * @publicApi
 */
export type RabbitMqTransportOptions = SettingsInput<typeof RABBITMQ_TRANSPORT_SETTINGS>;

/** @internal */
export type ResolvedRabbitMqTransportOptions = SettingsOutput<typeof RABBITMQ_TRANSPORT_SETTINGS>;
