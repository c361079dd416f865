import type { MsgHdrs } from '@nats-io/transport-node';
import { NatsEnvelopeSerializer } from './nats-envelope.serializer.js';

const envelope = {
  event_id: '6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f',
  event_type: 'learning_pulse.created',
  event_version: '1.0',
  aggregate_type: 'learning_pulse',
  aggregate_id: 'p 1/\u00e9',
  occurred_at: '2026-11-23T10:00:00.000Z',
  payload: { title: 'Photosynthesis' },
};
const packet = {
  pattern: 'edupulse.domain.events.learning_pulse.created',
  data: { envelope, headers: { traceparent: 'tp', 'Nats-Msg-Id': 'spoofed' } },
};

function headerRecord(headers: MsgHdrs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, values] of headers) out[key] = values[0];
  return out;
}

const decode = (data: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(data));

describe('NatsEnvelopeSerializer', () => {
  it('writes the envelope itself as the body and the event id as Nats-Msg-Id', () => {
    const { data, headers } = new NatsEnvelopeSerializer().serialize(packet);

    expect(decode(data)).toEqual(envelope);
    // The event's own 'Nats-Msg-Id' is replaced, not kept beside it.
    expect(headers.values('Nats-Msg-Id')).toEqual([envelope.event_id]);
    expect(headers.get('Event-Type')).toBe('learning_pulse.created');
    expect(headers.get('Event-Version')).toBe('1.0');
    expect(headers.get('Content-Type')).toBe('application/json');
    expect(headers.get('traceparent')).toBe('tp');
  });

  it('splices the stored payload JSON into the body instead of encoding the payload again', () => {
    // Multi-byte characters in the envelope (aggregate_id) and the payload: the body is
    // written by byte offsets, which one character counted as one byte would cut short.
    const stored = '{"title": "Fotos\u00edntesis \u{1F331}", "tags": ["bio"]}';
    const withJson = { ...packet, data: { ...packet.data, payloadJson: stored } };
    const { data } = new NatsEnvelopeSerializer().serialize(withJson);
    const body = new TextDecoder().decode(data);

    expect(body.endsWith(`,"payload":${stored}}`)).toBe(true);
    expect(data.length).toBe(Buffer.byteLength(body));
    expect(JSON.parse(body)).toEqual({ ...envelope, payload: JSON.parse(stored) as unknown });
  });

  it('in CloudEvents binary mode writes ce-* headers, percent-encoded, and the payload as the body', () => {
    const { data, headers } = new NatsEnvelopeSerializer({
      messageFormat: 'cloudevents-binary',
      cloudEventsSource: '/edupulse',
    }).serialize(packet);

    expect(decode(data)).toEqual({ title: 'Photosynthesis' });
    expect(headerRecord(headers)).toEqual({
      traceparent: 'tp',
      'Nats-Msg-Id': envelope.event_id,
      'ce-specversion': '1.0',
      'ce-id': envelope.event_id,
      'ce-source': '/edupulse',
      'ce-type': 'learning_pulse.created',
      'ce-subject': 'p%201/%C3%A9',
      'ce-time': '2026-11-23T10:00:00.000Z',
      'ce-datacontenttype': 'application/json',
      'ce-eventversion': '1.0',
      'ce-aggregatetype': 'learning_pulse',
      'ce-traceparent': 'tp',
      'Content-Type': 'application/json',
    });
  });

  it('in CloudEvents structured mode writes the whole event as application/cloudevents+json', () => {
    const { data, headers } = new NatsEnvelopeSerializer({
      messageFormat: 'cloudevents-structured',
      cloudEventsSource: '/edupulse',
    }).serialize(packet);

    expect(decode(data)).toEqual({
      specversion: '1.0',
      id: envelope.event_id,
      source: '/edupulse',
      type: 'learning_pulse.created',
      subject: 'p 1/\u00e9',
      time: '2026-11-23T10:00:00.000Z',
      datacontenttype: 'application/json',
      eventversion: '1.0',
      aggregatetype: 'learning_pulse',
      traceparent: 'tp',
      data: { title: 'Photosynthesis' },
    });
    expect(headerRecord(headers)).toEqual({
      traceparent: 'tp',
      'Nats-Msg-Id': envelope.event_id,
      'Content-Type': 'application/cloudevents+json; charset=UTF-8',
    });
  });
});
