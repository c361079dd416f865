import { defineDomainEvent } from '../../outbox/index.js';

/** Payloads are snake_case like the envelope: the consumers include Rust services. */
export const LearningPulseCreated = defineDomainEvent<{
  pulse_id: string;
  title: string;
  summary: string | null;
  author_id: string;
}>({ type: 'learning_pulse.created', version: '1.0', aggregateType: 'learning_pulse' });

export interface SubmissionReceivedPayload {
  submission_id: string;
  pulse_id: string;
  student_id: string;
  answer: string | null;
}

export const SubmissionReceived = defineDomainEvent<SubmissionReceivedPayload>({
  type: 'submission.received',
  version: '1.0',
  aggregateType: 'submission',
});
