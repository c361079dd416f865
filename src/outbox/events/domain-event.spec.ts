import { InvalidDomainEventError } from '../errors/invalid-domain-event.error.js';
import { defineDomainEvent } from './domain-event.js';

describe('defineDomainEvent', () => {
  const PulseCreated = defineDomainEvent<{ title: string }>({
    type: 'learning_pulse.created',
    version: '1.0',
    aggregateType: 'learning_pulse',
  });

  it('creates events with a fresh UUID, the declared type and version, and now as occurredAt', () => {
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
  });

  it.each([
    [{ type: 'LearningPulseCreated', version: '1.0', aggregateType: 'x' }, /type must be/],
    [{ type: 'a..b', version: '1.0', aggregateType: 'x' }, /type must be/],
    [{ type: `a.${'b'.repeat(254)}`, version: '1.0', aggregateType: 'x' }, /255 characters/],
    [{ type: null as unknown as string, version: '1.0', aggregateType: 'x' }, /type must be/],
    [{ type: 'a.b', version: 'v1', aggregateType: 'x' }, /version "v1"/],
    [{ type: 'a.b', version: '1', aggregateType: 'Pulse Type' }, /aggregate type/],
  ])('rejects %j', (spec, message) => {
    expect(() => defineDomainEvent(spec)).toThrow(InvalidDomainEventError);
    expect(() => defineDomainEvent(spec)).toThrow(message);
  });

  it('accepts an event type of exactly 255 characters', () => {
    const type = `a.${'b'.repeat(253)}`;
    expect(type).toHaveLength(255);
    expect(defineDomainEvent({ type, version: '1', aggregateType: 'a' }).type).toBe(type);
  });
});
