import { z } from 'zod';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

// PostgreSQL stores neither a NUL character nor a lone surrogate: refused here as a 400, not
// as a database error. The text `\u0000` (a backslash, then u0000) is ordinary content.
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(max)
    .refine((v) => !v.includes('\0'), 'must not contain a NUL character')
    .refine((v) => !LONE_SURROGATE.test(v), 'must not contain a lone surrogate');

export const CreatePulseBody = z.strictObject({
  title: text(200),
  summary: text(2_000).optional(),
  authorId: text(100),
});
export type CreatePulseBody = z.infer<typeof CreatePulseBody>;

export const CreateSubmissionBody = z.strictObject({
  studentId: text(100),
  answer: text(10_000).optional(),
});
export type CreateSubmissionBody = z.infer<typeof CreateSubmissionBody>;
