import { NatsEnvelopeSerializer } from './nats-envelope.serializer.js';

describe('NatsEnvelopeSerializer', () => {
  it('writes the envelope itself as the body and the event id as Nats-Msg-Id', () => {
    const envelope = {
      event_id: '6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f',
      event_type: 'learning_pulse.created',
      event_version: '1.0',
      aggregate_type: 'learning_pulse',
      aggregate_id: 'p-1',
      occurred_at: '2026-11-23T10:00:00.000Z',
      payload: { title: 'Photosynthesis' },
    };
    const { data, headers } = new NatsEnvelopeSerializer().serialize({
      pattern: 'edupulse.domain.events.learning_pulse.created',
      data: { envelope, headers: { traceparent: 'tp', 'Nats-Msg-Id': 'spoofed' } },
    });

    expect(JSON.parse(new TextDecoder().decode(data))).toEqual(envelope);
    expect(headers.get('Nats-Msg-Id')).toBe(envelope.event_id);
    expect(headers.get('Event-Type')).toBe('learning_pulse.created');
    expect(headers.get('Content-Type')).toBe('application/json');
    expect(headers.get('traceparent')).toBe('tp');
  });
});
