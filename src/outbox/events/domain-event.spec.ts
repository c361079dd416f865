import { InvalidDomainEventError } from '../errors/invalid-domain-event.error.js';
import { defineDomainEvent, EVENT_TYPE_PATTERN, isEventType } from './domain-event.js';

describe('defineDomainEvent', () => {
  // Defined inside each test: a definition that throws then fails that test, not the file.
  const pulseCreated = () =>
    defineDomainEvent<{ title: string }>({
      type: 'learning_pulse.created',
      version: '1.0',
      aggregateType: 'learning_pulse',
    });

  it('creates events with a fresh UUID, the declared type and version, and now as occurredAt', () => {
    const PulseCreated = pulseCreated();
    const before = Date.now();
    const a = PulseCreated.create('p-1', { title: 'x' });
    const b = PulseCreated.create('p-1', { title: 'x' });
    expect(a.eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.eventId).not.toBe(b.eventId);
    expect(a).toMatchObject({
      eventType: 'learning_pulse.created',
      eventVersion: '1.0',
      aggregateType: 'learning_pulse',
      aggregateId: 'p-1',
      payload: { title: 'x' },
      headers: {},
    });
    expect(a.occurredAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(a.occurredAt.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('describes itself, and freezes the definition and every event', () => {
    const PulseCreated = pulseCreated();
    expect(PulseCreated).toMatchObject({
      type: 'learning_pulse.created',
      version: '1.0',
      aggregateType: 'learning_pulse',
    });
    expect(Object.isFrozen(PulseCreated)).toBe(true);
    expect(Object.isFrozen(PulseCreated.create('p-1', { title: 'x' }))).toBe(true);
  });

  it('takes the event id, occurredAt and headers given, and copies the headers', () => {
    const occurredAt = new Date('2026-11-23T10:00:00.000Z');
    const headers = { traceparent: 'tp' };
    const event = pulseCreated().create(
      'p-1',
      { title: 'x' },
      { eventId: '6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f', occurredAt, headers },
    );
    expect(event.eventId).toBe('6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f');
    expect(event.occurredAt).toBe(occurredAt);
    expect(event.headers).toEqual({ traceparent: 'tp' });
    headers.traceparent = 'changed later';
    expect(event.headers).toEqual({ traceparent: 'tp' });
  });

  it.each([
    [{ type: 'LearningPulseCreated', version: '1.0', aggregateType: 'x' }, /type must be/],
    [{ type: 'a..b', version: '1.0', aggregateType: 'x' }, /type must be/],
    [{ type: `a.${'b'.repeat(254)}`, version: '1.0', aggregateType: 'x' }, /255 characters/],
    [{ type: null as unknown as string, version: '1.0', aggregateType: 'x' }, /type must be/],
    [{ type: 'a.b', version: 'v1', aggregateType: 'x' }, /version "v1"/],
    [{ type: 'a.b', version: '1x', aggregateType: 'x' }, /version "1x" must look like/],
    [{ type: 'a.b', version: '1.0.0.0', aggregateType: 'x' }, /version "1.0.0.0"/],
    [{ type: 'a.b', version: '1', aggregateType: 'Pulse Type' }, /aggregate type/],
    [{ type: 'a.b', version: '1', aggregateType: 'pulse-type' }, /aggregate type "pulse-type"/],
    [{ type: 'a.b', version: '1', aggregateType: `a${'b'.repeat(100)}` }, /aggregate type/],
  ])('rejects %j', (spec, message) => {
    expect(() => defineDomainEvent(spec)).toThrow(InvalidDomainEventError);
    expect(() => defineDomainEvent(spec)).toThrow(message);
  });

  it('names the offending type in the error', () => {
    expect(() => defineDomainEvent({ type: 'a.b', version: 'v1', aggregateType: 'x' })).toThrow(
      'Invalid domain event "a.b": version "v1" must look like "1" or "1.0"',
    );
    expect(() => defineDomainEvent({ type: 'A', version: '1', aggregateType: 'x' })).toThrow(
      /^Invalid domain event "A": the type must be/,
    );
  });

  it.each([
    ['a one-word type', { type: 'created', version: '1', aggregateType: 'a' }],
    ['a type of three words', { type: 'a.b_2.c3', version: '1', aggregateType: 'a' }],
    ['versions of several digits', { type: 'a.b', version: '10.20', aggregateType: 'a' }],
    ['a version of three numbers', { type: 'a.b', version: '1.2.3', aggregateType: 'a' }],
    [
      'an aggregate type of 100 characters',
      { type: 'a', version: '1', aggregateType: `a${'b_1'.repeat(33)}` },
    ],
  ])('accepts %s', (_, spec) => {
    expect(defineDomainEvent(spec)).toMatchObject(spec);
  });

  it('accepts an event type of exactly 255 characters', () => {
    const type = `a.${'b'.repeat(253)}`;
    expect(type).toHaveLength(255);
    expect(defineDomainEvent({ type, version: '1', aggregateType: 'a' }).type).toBe(type);
  });
});

describe('isEventType', () => {
  it('accepts dot-separated lower-case words of 1 to 255 characters, and nothing else', () => {
    for (const type of ['a', 'a.b', 'learning_pulse.created', 'a1.b_2.c', 'x'.repeat(255)]) {
      expect(isEventType(type)).toBe(true);
    }
    for (const type of ['', 'A', '1a', '_a', 'a.', '.a', 'a..b', 'a.B', 'a-b', 'x'.repeat(256)]) {
      expect(isEventType(type)).toBe(false);
    }
    for (const type of [null, undefined, 1, ['a']]) expect(isEventType(type)).toBe(false);
    expect(EVENT_TYPE_PATTERN.test('a.b')).toBe(true);
  });
});
