import { headers } from '@nats-io/transport-node';
import { NatsContext, RmqContext } from '@nestjs/microservices';
import { InvalidInboxKeyError } from '../errors/invalid-inbox-key.error.js';
import { eventIdOf } from './event-id.js';
import { RmqEnvelopeDeserializer } from '../rabbitmq/rmq-envelope.deserializer.js';

const natsContext = (msgId?: string) => {
  const h = headers();
  if (msgId) h.set('Nats-Msg-Id', msgId);
  return new NatsContext(['edupulse.domain.events.submission.received', h]);
};
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

describe('RmqEnvelopeDeserializer', () => {
  const deserializer = new RmqEnvelopeDeserializer();
  const envelope = { event_id: 'e-1', event_type: 'submission.received', payload: { n: 1 } };

  it('routes an envelope by its AMQP type, else by its event_type, and hands over the whole envelope', () => {
    expect(deserializer.deserialize(envelope, { type: 'learning_pulse.created' })).toEqual({
      pattern: 'learning_pulse.created',
      data: envelope,
    });
    expect(deserializer.deserialize(envelope, {})).toEqual({
      pattern: 'submission.received',
      data: envelope,
    });
  });

  it("passes Nest's own packets through", () => {
    const packet = { pattern: 'x', data: { n: 1 } };
    expect(deserializer.deserialize(packet, { type: 'y' })).toBe(packet);
  });
});
