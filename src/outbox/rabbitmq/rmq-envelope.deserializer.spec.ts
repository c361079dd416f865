import { RmqEnvelopeDeserializer } from './rmq-envelope.deserializer.js';

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
