import { defineDomainEvent } from '../../src/outbox/index.js';

/** The event types the tests write; payloads are loose on purpose. */
export const PulseCreated = defineDomainEvent<{ n?: number; title?: string; text?: string }>({
  type: 'learning_pulse.created',
  version: '1.0',
  aggregateType: 'learning_pulse',
});

export const SubmissionReceived = defineDomainEvent<{ n: number }>({
  type: 'submission.received',
  version: '1.0',
  aggregateType: 'submission',
});

/** A type no test binds a queue for nor captures in a stream. */
export const AuditLogged = defineDomainEvent<{ n: number }>({
  type: 'grading.audit_logged',
  version: '1.0',
  aggregateType: 'grading',
});
