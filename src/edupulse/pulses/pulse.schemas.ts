import { z } from 'zod';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

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
