import { RmqEnvelopeSerializer } from './rmq-envelope.serializer.js';

const envelope = {
  event_id: '6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f',
  event_type: 'learning_pulse.created',
  event_version: '1.0',
  aggregate_type: 'learning_pulse',
  aggregate_id: 'p-1',
  occurred_at: '2026-11-23T10:00:00.000Z',
  payload: { title: 'Photosynthesis' } as unknown,
};
const packetOf = (payload: unknown = envelope.payload) => ({
  pattern: 'learning_pulse.created',
  data: { envelope: { ...envelope, payload }, headers: { traceparent: 'tp' } },
});

/** What ClientRMQ.dispatchEvent does with the serializer's result. */
function publish(serialized: object): { body: string; options: Record<string, unknown> } {
  const { options } = serialized as { options: Record<string, unknown> };
  delete (serialized as { options?: unknown }).options;
  return { body: JSON.stringify(serialized), options };
}

// Built inside each test: a constructor that throws then fails that test, not the file.
const binary = () =>
  new RmqEnvelopeSerializer({
    messageFormat: 'cloudevents-binary',
    cloudEventsSource: '/edupulse',
  });

describe('RmqEnvelopeSerializer', () => {
  it('writes the envelope as the body, with messageId, type and Event-* headers', () => {
    const { body, options } = publish(new RmqEnvelopeSerializer().serialize(packetOf()));
    expect(JSON.parse(body)).toEqual(envelope);
    expect(options).toMatchObject({
      messageId: envelope.event_id,
      type: 'learning_pulse.created',
      contentType: 'application/json',
      persistent: true,
      // 2026-11-23T10:00:00Z, in whole seconds.
      timestamp: 1_795_428_000,
      headers: {
        traceparent: 'tp',
        'Event-Type': 'learning_pulse.created',
        'Event-Version': '1.0',
      },
    });
  });

  it('in CloudEvents binary mode writes cloudEvents_* headers, contentType and the payload as the body', () => {
    const { body, options } = publish(binary().serialize(packetOf()));
    expect(JSON.parse(body)).toEqual({ title: 'Photosynthesis' });
    expect(options).toEqual({
      messageId: envelope.event_id,
      type: 'learning_pulse.created',
      persistent: true,
      timestamp: 1_795_428_000,
      contentType: 'application/json',
      headers: {
        traceparent: 'tp',
        cloudEvents_specversion: '1.0',
        cloudEvents_id: envelope.event_id,
        cloudEvents_source: '/edupulse',
        cloudEvents_type: 'learning_pulse.created',
        cloudEvents_subject: 'p-1',
        cloudEvents_time: '2026-11-23T10:00:00.000Z',
        cloudEvents_eventversion: '1.0',
        cloudEvents_aggregatetype: 'learning_pulse',
        cloudEvents_traceparent: 'tp',
      },
    });
  });

  it.each([[[1, 2]], ['text'], [42], [null]])(
    'in binary mode writes a payload that is not an object as it is: %j',
    (payload) => {
      expect(publish(binary().serialize(packetOf(payload))).body).toBe(JSON.stringify(payload));
    },
  );

  it('in CloudEvents structured mode writes the whole event as application/cloudevents+json', () => {
    const { body, options } = publish(
      new RmqEnvelopeSerializer({
        messageFormat: 'cloudevents-structured',
        cloudEventsSource: '/edupulse',
      }).serialize(packetOf()),
    );
    expect(JSON.parse(body)).toEqual({
      specversion: '1.0',
      id: envelope.event_id,
      source: '/edupulse',
      type: 'learning_pulse.created',
      subject: 'p-1',
      time: '2026-11-23T10:00:00.000Z',
      datacontenttype: 'application/json',
      eventversion: '1.0',
      aggregatetype: 'learning_pulse',
      traceparent: 'tp',
      data: { title: 'Photosynthesis' },
    });
    expect(options).toMatchObject({
      messageId: envelope.event_id,
      contentType: 'application/cloudevents+json; charset=UTF-8',
      headers: { traceparent: 'tp' },
    });
  });
});
