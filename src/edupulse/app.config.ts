import { z } from 'zod';
import { integer, postgresUrl } from '../outbox/config/setting-schemas.js';
import {
  defineSetting,
  resolveSettings,
  settingsFromEnv,
  type SettingsOutput,
} from '../outbox/config/setting.js';
import type { Environment } from '../outbox/index.js';

/** The example service's own settings; the outbox's are in the library (OUTBOX_SETTINGS...). */
export const APP_SETTINGS = [
  defineSetting({
    path: 'databaseUrl',
    option: 'databaseUrl',
    env: 'DATABASE_URL',
    default: 'postgres://postgres@127.0.0.1:5432/postgres',
    description: 'PostgreSQL URL of the example service (and of the dead-letter CLI)',
    secret: true,
    schema: postgresUrl,
  }),
  defineSetting({
    path: 'databaseSchema',
    option: 'databaseSchema',
    env: 'DATABASE_SCHEMA',
    default: undefined,
    description: "Schema of the example's tables; empty = the connection's search_path",
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
      .optional(),
  }),
  defineSetting({
    path: 'port',
    option: 'port',
    env: 'PORT',
    default: '3000',
    description: 'HTTP port of the example service',
    schema: integer(0, 65_535),
  }),
] as const;

export type AppConfig = SettingsOutput<typeof APP_SETTINGS>;

/** The example's own variables; throws one `OutboxConfigError` naming each bad one. */
export function loadAppConfig(env: Environment = process.env): AppConfig {
  return resolveSettings(APP_SETTINGS, settingsFromEnv(APP_SETTINGS, env), 'AppModule');
}
