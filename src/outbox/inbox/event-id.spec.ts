import { NatsContext, RmqContext } from '@nestjs/microservices';
import { InvalidInboxKeyError } from '../errors/invalid-inbox-key.error.js';
import { eventIdOf } from './event-id.js';

// A plain stand-in for NATS headers: get() answers '' for a missing header, as nats.js does.
// test/inbox.e2e.spec.ts reads the real ones off JetStream.
const natsContext = (msgId?: string) =>
  new NatsContext([
    'edupulse.domain.events.submission.received',
    { get: (name: string) => (name === 'Nats-Msg-Id' && msgId) || '' },
  ]);
const rmqContext = (messageId?: string) =>
  new RmqContext([{ properties: { messageId }, fields: {} }, {}, 'submission.received']);

describe('eventIdOf', () => {
  it("prefers the envelope's event_id over the transport's message id", () => {
    expect(eventIdOf({ event_id: 'from-body' }, natsContext('from-header'))).toBe('from-body');
    expect(eventIdOf({ event_id: 'from-body' }, rmqContext('from-property'))).toBe('from-body');
  });

  it('falls back to Nats-Msg-Id, then to the AMQP messageId, for bodies that are not envelopes', () => {
    expect(eventIdOf({ orderId: 7 }, natsContext('from-header'))).toBe('from-header');
    expect(eventIdOf('plain text', rmqContext('from-property'))).toBe('from-property');
    expect(eventIdOf({ event_id: '' }, natsContext('from-header'))).toBe('from-header');
  });

  it('refuses a message that carries no event id at all', () => {
    expect(() => eventIdOf({ orderId: 7 }, natsContext())).toThrow(InvalidInboxKeyError);
    expect(() => eventIdOf(null, rmqContext())).toThrow(/no envelope event_id/);
    expect(() => eventIdOf({ event_id: 42 })).toThrow(InvalidInboxKeyError);
  });
});
