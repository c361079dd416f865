import type { z } from 'zod';
import { cron, duration, flag, identifier, integer } from './setting-schemas.js';

/** The messages of every issue `schema` finds in `value`; empty when it is valid. */
const problems = (schema: z.ZodType, value: unknown): string[] =>
  schema.safeParse(value).error?.issues.map((i) => i.message) ?? [];

/** The same, with the messages of every option of a union that failed (zod hides them). */
const unionProblems = (schema: z.ZodType, value: unknown): string[] => {
  const messages = (issues: readonly z.core.$ZodIssue[]): string[] =>
    issues.flatMap((i) => (i.code === 'invalid_union' ? i.errors.flatMap(messages) : [i.message]));
  return messages(schema.safeParse(value).error?.issues ?? []);
};

const DAY_MS = 86_400_000;

describe('integer', () => {
  const oneToTen = integer(1, 10);

  it('takes whole numbers between its bounds, inclusive, from code or from text', () => {
    expect(oneToTen.parse(1)).toBe(1);
    expect(oneToTen.parse(10)).toBe(10);
    expect(oneToTen.parse('7')).toBe(7);
  });

  it('says what is wrong', () => {
    expect(problems(oneToTen, 'lots')).toEqual(['must be a number']);
    expect(problems(oneToTen, 2.5)).toEqual(['must be a whole number']);
    expect(problems(oneToTen, 0)).toEqual(['must be at least 1']);
    expect(problems(oneToTen, '11')).toEqual(['must be at most 10']);
  });
});

describe('flag', () => {
  it('takes a boolean, or the words for one', () => {
    expect(flag.parse(true)).toBe(true);
    expect(flag.parse(false)).toBe(false);
    for (const word of ['true', '1', 'yes', 'on']) expect(flag.parse(word)).toBe(true);
    for (const word of ['false', '0', 'no', 'off']) expect(flag.parse(word)).toBe(false);
    expect(flag.safeParse('maybe').success).toBe(false);
    expect(flag.safeParse(1).success).toBe(false);
  });
});

describe('identifier', () => {
  it('takes a lower-case SQL identifier only', () => {
    expect(identifier.parse('event_outbox')).toBe('event_outbox');
    for (const bad of ['Event', 'a b', 'x; DROP TABLE users', '', 'a'.repeat(64)]) {
      expect(problems(identifier, bad)).toEqual([
        'must be a lower-case SQL identifier (letters, digits, _; at most 63)',
      ]);
    }
  });
});

describe('cron', () => {
  it('takes an expression that fires, with or without seconds', () => {
    expect(cron.parse('* * * * * *')).toBe('* * * * * *');
    expect(cron.parse('0 */5 * * *')).toBe('0 */5 * * *');
  });

  it('refuses text that is no cron expression, with that reason only', () => {
    expect(problems(cron, 'every second')).toEqual(['is not a cron expression']);
  });

  it('refuses an expression that can never fire', () => {
    expect(problems(cron, '0 0 0 30 2 *')).toEqual(['never fires']);
  });
});

describe('duration', () => {
  it.each([
    ['0', 0],
    ['500ms', 500],
    ['45s', 45_000],
    ['30m', 1_800_000],
    ['12h', 43_200_000],
    ['7d', 7 * DAY_MS],
    ['10d', 10 * DAY_MS],
    ['3650d', 3_650 * DAY_MS],
  ])('reads %s as %d ms', (text, ms) => {
    expect(duration.parse(text)).toBe(ms);
  });

  it('takes a whole number of milliseconds from code', () => {
    expect(duration.parse(0)).toBe(0);
    expect(duration.parse(1_500)).toBe(1_500);
    expect(duration.parse(3_650 * DAY_MS)).toBe(3_650 * DAY_MS);
    expect(duration.safeParse(-1).success).toBe(false);
    expect(duration.safeParse(1.5).success).toBe(false);
  });

  it.each(['10', '7', '7 d', 'x7d', '7dx', '7w', '-1d', '', '00'])('refuses %j', (text) => {
    // zod reports a failed union as "Invalid input", each option's reason inside.
    expect(unionProblems(duration, text)).toEqual([
      'Invalid input: expected number, received string',
      'must be a duration like 7d, 12h, 30m, 45s or 0',
    ]);
  });

  it('refuses more than 10 years', () => {
    expect(problems(duration, '3651d')).toEqual(['must be 3650d (10 years) at most']);
    expect(problems(duration, 3_650 * DAY_MS + 1)).toEqual(['must be 3650d (10 years) at most']);
  });
});
