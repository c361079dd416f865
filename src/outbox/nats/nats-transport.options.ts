import type { SettingsInput, SettingsOutput } from '../config/setting.js';
import type { NATS_TRANSPORT_SETTINGS } from './nats-transport.settings.js';

/**
 * Options of `natsTransport()`: `{ servers, subjectPrefix, stream, createStream,
 * duplicateWindowMs }`, each described with its default in `NATS_TRANSPORT_SETTINGS`.
 * @publicApi
 */
export type NatsTransportOptions = SettingsInput<typeof NATS_TRANSPORT_SETTINGS>;

/** @internal */
export type ResolvedNatsTransportOptions = SettingsOutput<typeof NATS_TRANSPORT_SETTINGS>;
