import { z } from 'zod';

/** The example service's own settings; the outbox reads its own (see OUTBOX_SETTINGS). */
export interface AppConfig {
  readonly databaseUrl: string;
  readonly databaseSchema: string | undefined;
  readonly port: number;
}

const schema = z.object({
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL')
    .default('postgres://postgres@127.0.0.1:5432/postgres'),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier')
    .optional(),
  PORT: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be a port number (0-65535)')
    .max(65_535, 'must be a port number (0-65535)')
    .default(3000),
});

/** Thrown when a variable of the example service is invalid; names each one. */
export class InvalidEnvironmentError extends Error {
  override readonly name = 'InvalidEnvironmentError';
}

export function loadAppConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  // Empty strings count as unset, as in most .env tooling.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    // DATABASE_URL may hold a password: name the variable, never echo its value.
    const lines = result.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
    throw new InvalidEnvironmentError(`Invalid environment:\n${lines.join('\n')}`);
  }
  return {
    databaseUrl: result.data.DATABASE_URL,
    databaseSchema: result.data.DATABASE_SCHEMA,
    port: result.data.PORT,
  };
}
