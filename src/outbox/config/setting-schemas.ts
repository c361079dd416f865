import { CronTime, validateCronExpression } from 'cron';
import { z } from 'zod';
import { SQL_IDENTIFIER } from './sql-identifier.js';

/** The validation rules settings share, each with a message that says what is expected. */

export const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

export const flag = z.union([z.boolean(), z.stringbool()]);

export const identifier = z
  .string()
  .regex(SQL_IDENTIFIER, 'must be a lower-case SQL identifier (letters, digits, _; at most 63)');

export const cron = z
  .string()
  .refine((v) => validateCronExpression(v).valid, 'is not a cron expression')
  // A valid expression can still never fire (the 30th of February).
  .refine((v) => !validateCronExpression(v).valid || firesAgain(v), 'never fires');

function firesAgain(expression: string): boolean {
  try {
    return new CronTime(expression).sendAt(1).length > 0;
  } catch {
    return false;
  }
}

const DURATION_UNITS_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The longest duration a setting takes: PostgreSQL's intervals and timers stay exact. */
const MAX_DURATION_MS = 3_650 * 86_400_000;

/** "7d", "12h", "30m", "45s", "500ms", "0", or a number of milliseconds from code; 10 years at most. */
export const duration = z
  .union(
    [
      z.number().int().min(0),
      z
        .string()
        .regex(/^(0|\d+(ms|s|m|h|d))$/, 'must be a duration like 7d, 12h, 30m, 45s or 0')
        .transform((v) => {
          // The pattern above guarantees a match.
          const [, amount, unit] = /^(\d+)(ms|s|m|h|d)?$/.exec(v)!;
          return (
            Number(amount) * (unit ? DURATION_UNITS_MS[unit as keyof typeof DURATION_UNITS_MS] : 1)
          );
        }),
    ],
    // zod would say "Invalid input" for a union: name what is expected instead.
    { error: 'must be a duration like 7d, 12h, 30m, 45s or 0' },
  )
  .refine((ms) => ms <= MAX_DURATION_MS, 'must be 3650d (10 years) at most');

/** A PostgreSQL URL that the `pg` driver can parse; the value may hold a password. */
export const postgresUrl = z
  .string()
  .trim()
  .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL')
  .refine((url) => URL.canParse(url), 'must be a postgres:// URL');
