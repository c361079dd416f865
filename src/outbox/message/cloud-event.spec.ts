import {
  cloudEventsSourceOf,
  contextAttributes,
  percentEncodeHeaderValue,
  toCloudEvent,
} from './cloud-event.js';
import type { OutboxMessage } from './outbox-message.js';

const message: OutboxMessage = {
  envelope: {
    event_id: '6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f',
    event_type: 'learning_pulse.created',
    event_version: '1.0',
    aggregate_type: 'learning_pulse',
    aggregate_id: 'p-1',
    occurred_at: '2026-11-23T10:00:00.000Z',
    payload: { title: 'Photosynthesis' },
  },
  headers: {
    TraceParent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'x-tenant': 't-1',
  },
};

describe('toCloudEvent', () => {
  it('maps the envelope onto the CloudEvents 1.0 attributes, the payload as data', () => {
    expect(toCloudEvent(message, '/edupulse')).toEqual({
      specversion: '1.0',
      id: '6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f',
      source: '/edupulse',
      type: 'learning_pulse.created',
      subject: 'p-1',
      time: '2026-11-23T10:00:00.000Z',
      datacontenttype: 'application/json',
      eventversion: '1.0',
      aggregatetype: 'learning_pulse',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      data: { title: 'Photosynthesis' },
    });
  });

  it('adds no trace attributes when the event has no trace context', () => {
    const event = toCloudEvent({ ...message, headers: { tracestate: 'a=1' } }, '/s');
    expect(event).not.toHaveProperty('traceparent');
    expect(event.tracestate).toBe('a=1');
  });

  it('names every attribute as the spec requires: lower-case a-z0-9, at most 20 characters', () => {
    const event = toCloudEvent(
      { ...message, headers: { traceparent: 'tp', tracestate: 'ts' } },
      '/s',
    );
    for (const name of Object.keys(event)) expect(name).toMatch(/^[a-z0-9]{1,20}$/);
  });

  it('lists the context attributes without data, as strings', () => {
    const attributes = contextAttributes(toCloudEvent(message, '/edupulse'));
    expect(attributes.map(([name]) => name)).not.toContain('data');
    expect(Object.fromEntries(attributes)).toMatchObject({
      id: message.envelope.event_id,
      specversion: '1.0',
      datacontenttype: 'application/json',
    });
    expect(attributes.every(([, value]) => typeof value === 'string')).toBe(true);
  });
});

describe('percentEncodeHeaderValue', () => {
  it('encodes space, double quote, percent and non-ASCII as UTF-8 bytes (the binding example)', () => {
    expect(percentEncodeHeaderValue('Euro \u20ac \u{1f600}')).toBe(
      'Euro%20%E2%82%AC%20%F0%9F%98%80',
    );
    expect(percentEncodeHeaderValue('say "100%"')).toBe('say%20%22100%25%22');
    expect(percentEncodeHeaderValue('tab\there')).toBe('tab%09here');
  });

  it('encodes a value made only of characters that need it', () => {
    expect(percentEncodeHeaderValue(' "%')).toBe('%20%22%25');
    expect(percentEncodeHeaderValue('\u00e9')).toBe('%C3%A9');
    expect(percentEncodeHeaderValue('\n')).toBe('%0A');
    expect(percentEncodeHeaderValue('')).toBe('');
  });

  it('leaves printable ASCII alone', () => {
    const printable = '6f1c2f8e-6a0e/learning_pulse.created:2026-11-23T10:00:00.000Z?a=b&c=d~';
    expect(percentEncodeHeaderValue(printable)).toBe(printable);
  });
});

describe('cloudEventsSourceOf', () => {
  it('needs a source only for a CloudEvents format', () => {
    expect(cloudEventsSourceOf({})).toBeUndefined();
    expect(
      cloudEventsSourceOf({ messageFormat: 'cloudevents-binary', cloudEventsSource: '/a' }),
    ).toBe('/a');
    expect(() => cloudEventsSourceOf({ messageFormat: 'cloudevents-structured' })).toThrow(
      new TypeError("cloudEventsSource is required with messageFormat 'cloudevents-structured'"),
    );
    expect(() =>
      cloudEventsSourceOf({ messageFormat: 'cloudevents-binary', cloudEventsSource: '' }),
    ).toThrow(TypeError);
    expect(cloudEventsSourceOf({ messageFormat: 'envelope', cloudEventsSource: '/a' })).toBe(
      undefined,
    );
  });
});
