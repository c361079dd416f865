import { InvalidDomainEventError } from '../errors/invalid-domain-event.error.js';
import { PayloadNotSerializableError } from '../errors/payload-not-serializable.error.js';
import type { DomainEvent } from '../events/domain-event.js';
import {
  assertDistinctIds,
  assertValidEvent,
  MAX_AGGREGATE_ID_LENGTH,
  serializePayload,
} from './event-validation.js';

const ID = '6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f';

/** A valid event, or with `change` one that is not (typed as an event, as a caller may pass it). */
const event = (change: Record<string, unknown> = {}): DomainEvent => ({
  eventId: ID,
  eventType: 'learning_pulse.created',
  eventVersion: '1.0',
  aggregateType: 'learning_pulse',
  aggregateId: 'p-1',
  occurredAt: new Date('2026-11-23T10:00:00.000Z'),
  payload: { title: 'Photosynthesis' },
  headers: { traceparent: 'tp' },
  ...change,
});

/** The `InvalidDomainEventError` `assertValidEvent` throws; fails the test when it throws nothing. */
function rejection(candidate: unknown): InvalidDomainEventError {
  try {
    assertValidEvent(candidate);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDomainEventError);
    return error as InvalidDomainEventError;
  }
  throw new Error('expected an InvalidDomainEventError, and nothing was thrown');
}

const problemOf = (change: Record<string, unknown>) => rejection(event(change)).problem;

/** The `PayloadNotSerializableError` `serializePayload` throws for `payload`. */
function unserializable(payload: unknown): PayloadNotSerializableError {
  try {
    serializePayload(event({ payload }));
  } catch (error) {
    expect(error).toBeInstanceOf(PayloadNotSerializableError);
    return error as PayloadNotSerializableError;
  }
  throw new Error('expected a PayloadNotSerializableError, and nothing was thrown');
}

describe('assertValidEvent', () => {
  it('accepts a well-formed event', () => {
    expect(() => assertValidEvent(event())).not.toThrow();
  });

  it.each([
    ['an upper-case UUID', { eventId: ID.toUpperCase() }],
    ['a one-word event type', { eventType: 'created' }],
    ['a version of one number', { eventVersion: '1' }],
    ['a version of three numbers of several digits', { eventVersion: '10.20.30' }],
    ['a one-letter aggregate type', { aggregateType: 'a' }],
    ['an aggregate type of 100 characters', { aggregateType: `a${'b_1'.repeat(33)}` }],
    ['an aggregate id of the longest length', { aggregateId: 'x'.repeat(MAX_AGGREGATE_ID_LENGTH) }],
    ['an aggregate id with a surrogate pair', { aggregateId: 'p-\u{1f600}' }],
    ['no headers at all', { headers: undefined }],
    ['every token character in a header name', { headers: { "!#$%&'*+.^_`|~-Az09": 'v' } }],
    ['a header that only mentions nats', { headers: { 'X-Nats-Origin': 'v' } }],
    ['an empty header value', { headers: { 'x-empty': '' } }],
    ['a header value with a surrogate pair', { headers: { 'x-emoji': '\u{1f600}' } }],
  ])('accepts %s', (_, change) => {
    expect(() => assertValidEvent(event(change))).not.toThrow();
  });

  it.each([null, undefined, 'learning_pulse.created', 42])(
    'refuses %j, which is not an event',
    (candidate) => {
      const error = rejection(candidate);
      expect(error.eventType).toBe(String(candidate));
      expect(error.problem).toBe('not an event: build it with defineDomainEvent');
    },
  );

  it.each([undefined, null, 'LearningPulseCreated', 'a..b', `a.${'b'.repeat(254)}`])(
    'refuses the event type %j',
    (eventType) => {
      const error = rejection(event({ eventType }));
      expect(error.eventType).toBe(String(eventType));
      expect(error.problem).toBe(
        'malformed event type: dot-separated lower-case words, 255 characters at most',
      );
    },
  );

  it.each([
    42,
    [ID],
    '',
    'not-a-uuid',
    `x${ID}`,
    `${ID}x`,
    ID.replace(/-/g, ''),
    ID.replace('6', 'g'),
  ])('refuses the event id %j', (eventId) => {
    expect(problemOf({ eventId })).toBe('the event id must be a UUID');
  });

  it.each([1, '', 'v1', '1.', '1x', '1.0.0.0', '1..0', '.1'])(
    'refuses the version %j',
    (eventVersion) => {
      expect(problemOf({ eventVersion })).toBe('the version must look like "1" or "1.0"');
    },
  );

  it.each([
    7,
    ['learning_pulse'],
    '',
    'Pulse',
    '1pulse',
    '_pulse',
    'pulse-type',
    `a${'b'.repeat(100)}`,
  ])('refuses the aggregate type %j', (aggregateType) => {
    expect(problemOf({ aggregateType })).toBe(
      'the aggregate type must be a lower-case word of 100 characters at most',
    );
  });

  it.each([undefined, 7, '', '   '])('refuses the aggregate id %j as missing', (aggregateId) => {
    expect(problemOf({ aggregateId })).toBe('the aggregate id is missing');
  });

  it.each([
    ['one character too long', 'x'.repeat(MAX_AGGREGATE_ID_LENGTH + 1)],
    ['with a NUL', 'p\u00001'],
    ['with a lone high surrogate at the end', 'p-\uD800'],
    ['with a lone high surrogate inside', '\uD83Dp'],
    ['with a lone low surrogate', 'p-\uDC00'],
    ['with a low surrogate first', '\uDE00p'],
    ['with a reversed surrogate pair', '\uDE00\uD83D'],
  ])('refuses an aggregate id %s', (_, aggregateId) => {
    expect(problemOf({ aggregateId })).toBe(
      'the aggregate id must be text without NUL or lone surrogates, 512 characters at most',
    );
  });

  it.each([['2026-11-23T10:00:00.000Z'], [Date.parse('2026-11-23')], [new Date('not a date')]])(
    'refuses occurredAt %j',
    (occurredAt) => {
      expect(problemOf({ occurredAt })).toBe('occurredAt must be a valid Date');
    },
  );

  it.each(['', 'bad name', 'x y', 'caf\u00e9', 'a:b'])('refuses the header name %j', (name) => {
    expect(problemOf({ headers: { ok: 'v', [name]: 'v' } })).toBe(
      `header name ${JSON.stringify(name)} is not a token`,
    );
  });

  it.each(['Nats-Msg-Id', 'nats-expected-stream', 'NATS-Rollup'])(
    'refuses the header %s, which belongs to the broker',
    (name) => {
      expect(problemOf({ headers: { [name]: 'v' } })).toBe(
        `header ${name} is reserved for the broker`,
      );
    },
  );

  it.each([
    ['not a string', 42],
    ['with a carriage return', 'a\rb'],
    ['with a line feed', 'a\nb'],
    ['with a NUL', 'a\u0000b'],
    ['with a lone high surrogate', 'a\uD800'],
    ['with a lone low surrogate', '\uDC00a'],
  ])('refuses a header value %s', (_, value) => {
    expect(problemOf({ headers: { 'x-bad': value } })).toBe(
      'header x-bad must be a single-line string',
    );
  });

  it('names the event type in the error', () => {
    const error = rejection(event({ eventVersion: 'v1' }));
    expect(error.eventType).toBe('learning_pulse.created');
    expect(error.message).toBe(
      'Invalid domain event "learning_pulse.created": the version must look like "1" or "1.0"',
    );
  });
});

describe('assertDistinctIds', () => {
  const withId = (eventId: string) => event({ eventId });

  it('accepts distinct ids, and no events at all', () => {
    const other = '0b7e3c4d-1111-4222-8333-944455566677';
    expect(() => assertDistinctIds([withId(ID), withId(other)])).not.toThrow();
    expect(() => assertDistinctIds([])).not.toThrow();
  });

  it('refuses one id twice in one write, whatever its case', () => {
    for (const second of [ID, ID.toUpperCase()]) {
      expect(() => assertDistinctIds([withId(ID), withId(second)])).toThrow(
        new InvalidDomainEventError(
          'learning_pulse.created',
          `event id ${second} appears twice in one write`,
        ),
      );
    }
    expect(() => assertDistinctIds([withId(ID.toUpperCase()), withId(ID)])).toThrow(
      /appears twice/,
    );
  });
});

describe('serializePayload', () => {
  it('writes the payload as JSON', () => {
    expect(serializePayload(event())).toBe('{"title":"Photosynthesis"}');
    expect(serializePayload(event({ payload: null }))).toBe('null');
    expect(serializePayload(event({ payload: 'a\u{1f600}' }))).toBe('"a\u{1f600}"');
  });

  it('keeps text that merely looks like an escape: a backslash followed by u0000', () => {
    expect(serializePayload(event({ payload: { text: '\\u0000 \\ud800' } }))).toBe(
      '{"text":"\\\\u0000 \\\\ud800"}',
    );
  });

  it('refuses a payload JSON cannot write, with the cause', () => {
    const error = unserializable({ count: 1n });
    expect(error.eventType).toBe('learning_pulse.created');
    expect(error.eventId).toBe(ID);
    expect(error.cause).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/^Payload of event "learning_pulse.created" \(6f1c2f8e-/);
    expect(error.message).toMatch(/BigInt/);
  });

  it.each([[undefined], [() => 1]])(
    'refuses a payload that JSON writes as nothing: %p',
    (payload) => {
      expect(unserializable(payload).message).toMatch(/is not JSON-serialisable: it is undefined$/);
    },
  );

  it.each([
    ['a NUL', 'a\u0000b'],
    ['a NUL after a backslash', 'a\\\u0000'],
    ['a lone high surrogate', 'a\uD800'],
    ['a lone high surrogate, upper range', '\uDBFFa'],
    ['a lone low surrogate', '\uDC00'],
    ['a lone low surrogate, upper range', 'a\uDFFF'],
  ])('refuses a string with %s, which PostgreSQL cannot store', (_, text) => {
    expect(unserializable({ text }).message).toMatch(
      /a string holds a NUL character or a lone surrogate, which PostgreSQL cannot store$/,
    );
  });
});
