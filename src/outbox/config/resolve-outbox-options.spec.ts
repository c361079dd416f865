import type { EntityManager } from 'typeorm';
import { OutboxConfigError, type OutboxConfigIssue } from '../errors/outbox-config.error.js';
import type { OutboxTransportFactory } from '../transport/outbox-transport.js';
import { outboxOptionsFromEnv, resolveOutboxOptions } from './resolve-outbox-options.js';

// A plain fake: resolution only carries the factory through, it never calls it.
const transport = jest.fn() as unknown as OutboxTransportFactory;

/** The issues of the `OutboxConfigError` `run` throws; fails the test when it throws nothing. */
function issuesOf(run: () => unknown): readonly OutboxConfigIssue[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxConfigError);
    return (error as OutboxConfigError).issues;
  }
  throw new Error('expected an OutboxConfigError, and nothing was thrown');
}

const MISSING_SOURCE = (format: string) => ({
  source: 'OUTBOX_CLOUDEVENTS_SOURCE',
  reason: `is required with message format ${format}: a URI-reference naming this service, e.g. /edupulse (or set forRoot({ messages: { cloudEventsSource } }))`,
});

describe('resolveOutboxOptions', () => {
  it('applies the defaults, carries the transport and resolver through, and freezes the result', () => {
    const entityManagerResolver = () => ({}) as EntityManager;
    const resolved = resolveOutboxOptions({ transport, entityManagerResolver });
    expect(resolved).toMatchObject({
      table: 'event_outbox',
      schema: undefined,
      batchSize: 500,
      messageFormat: 'envelope',
      retryBaseMs: 1_000,
      retryMaxMs: 300_000,
      retentionMs: 7 * 86_400_000,
    });
    expect(resolved.transport).toBe(transport);
    expect(resolved.entityManagerResolver).toBe(entityManagerResolver);
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(resolveOutboxOptions({ transport }).entityManagerResolver).toBeUndefined();
  });

  it('names a bad option as written in forRoot', () => {
    expect(issuesOf(() => resolveOutboxOptions({ transport, relay: { batchSize: 0 } }))).toEqual([
      { source: 'forRoot({ relay: { batchSize } })', reason: 'must be at least 1 (got 0)' },
    ]);
  });

  it('requires a CloudEvents source with a CloudEvents format only', () => {
    for (const format of ['cloudevents-binary', 'cloudevents-structured'] as const) {
      expect(issuesOf(() => resolveOutboxOptions({ transport, messages: { format } }))).toEqual([
        MISSING_SOURCE(format),
      ]);
      expect(
        resolveOutboxOptions({ transport, messages: { format, cloudEventsSource: '/edupulse' } }),
      ).toMatchObject({ messageFormat: format, cloudEventsSource: '/edupulse' });
    }
    expect(resolveOutboxOptions({ transport, messages: { format: 'envelope' } })).toMatchObject({
      cloudEventsSource: undefined,
    });
  });

  it('reports a bad format once, not also as a missing source', () => {
    const issues = issuesOf(() =>
      resolveOutboxOptions({
        transport,
        messages: { format: 'cloudevents' as 'envelope' },
      }),
    );
    expect(issues.map((i) => i.source)).toEqual(['forRoot({ messages: { format } })']);
  });

  it('refuses a lower bound above its upper bound, and takes them equal', () => {
    expect(
      issuesOf(() => resolveOutboxOptions({ transport, retry: { baseMs: 60_000, maxMs: 1_000 } })),
    ).toEqual([
      {
        source: 'OUTBOX_RETRY_BASE_MS',
        reason: '(60000) must not be above OUTBOX_RETRY_MAX_MS (1000)',
      },
    ]);
    // The default maximum (300000) counts too.
    expect(issuesOf(() => resolveOutboxOptions({ transport, retry: { baseMs: 300_001 } }))).toEqual(
      [
        {
          source: 'OUTBOX_RETRY_BASE_MS',
          reason: '(300001) must not be above OUTBOX_RETRY_MAX_MS (300000)',
        },
      ],
    );
    expect(
      issuesOf(() =>
        resolveOutboxOptions({ transport, health: { backlogWarn: 100, backlogMax: 10 } }),
      ),
    ).toEqual([
      {
        source: 'OUTBOX_HEALTH_BACKLOG_WARN',
        reason: '(100) must not be above OUTBOX_HEALTH_BACKLOG_MAX (10)',
      },
    ]);
    expect(
      resolveOutboxOptions({
        transport,
        retry: { baseMs: 5_000, maxMs: 5_000 },
        health: { backlogWarn: 10, backlogMax: 10 },
      }),
    ).toMatchObject({ retryBaseMs: 5_000, retryMaxMs: 5_000 });
    // A bound left unset contradicts nothing.
    expect(resolveOutboxOptions({ transport, health: { backlogWarn: 100 } })).toMatchObject({
      healthBacklogWarn: 100,
      healthBacklogMax: undefined,
    });
  });

  it('lists the issues of every setting and every rule in one error', () => {
    const issues = issuesOf(() =>
      resolveOutboxOptions({
        transport,
        table: 'Bad Table',
        messages: { format: 'cloudevents-binary' },
        retry: { baseMs: 2, maxMs: 1 },
      }),
    );
    expect(issues.map((i) => i.source)).toEqual([
      'forRoot({ table })',
      'OUTBOX_CLOUDEVENTS_SOURCE',
      'OUTBOX_RETRY_BASE_MS',
    ]);
  });
});

describe('outboxOptionsFromEnv', () => {
  it('reads the variables into grouped options, and leaves out what is unset', () => {
    expect(outboxOptionsFromEnv({})).toStrictEqual({});
    expect(
      outboxOptionsFromEnv({
        OUTBOX_TABLE: 'from_env',
        OUTBOX_BATCH_SIZE: '42',
        OUTBOX_RETENTION: '12h',
        OUTBOX_RELAY_ENABLED: 'false',
      }),
    ).toStrictEqual({
      table: 'from_env',
      relay: { batchSize: 42, enabled: false },
      retention: { keepFor: 43_200_000 },
    });
  });

  it("falls back to the application's defaults", () => {
    expect(outboxOptionsFromEnv({ OUTBOX_BATCH_SIZE: '' }, { relay: { batchSize: 7 } })).toEqual({
      relay: { batchSize: 7 },
    });
  });

  it('requires a CloudEvents source with a CloudEvents format, from the environment or the defaults', () => {
    expect(
      issuesOf(() => outboxOptionsFromEnv({ OUTBOX_MESSAGE_FORMAT: 'cloudevents-binary' })),
    ).toEqual([MISSING_SOURCE('cloudevents-binary')]);
    expect(
      issuesOf(() => outboxOptionsFromEnv({}, { messages: { format: 'cloudevents-structured' } })),
    ).toEqual([MISSING_SOURCE('cloudevents-structured')]);
    expect(
      outboxOptionsFromEnv(
        { OUTBOX_MESSAGE_FORMAT: 'cloudevents-binary' },
        { messages: { cloudEventsSource: '/app' } },
      ),
    ).toEqual({ messages: { format: 'cloudevents-binary', cloudEventsSource: '/app' } });
    expect(
      outboxOptionsFromEnv({
        OUTBOX_MESSAGE_FORMAT: 'cloudevents-binary',
        OUTBOX_CLOUDEVENTS_SOURCE: '/edupulse',
      }),
    ).toEqual({ messages: { format: 'cloudevents-binary', cloudEventsSource: '/edupulse' } });
  });

  it('reports a bad source once, as bad, not also as missing', () => {
    const issues = issuesOf(() =>
      outboxOptionsFromEnv({
        OUTBOX_MESSAGE_FORMAT: 'cloudevents-binary',
        OUTBOX_CLOUDEVENTS_SOURCE: 'my service',
      }),
    );
    expect(issues).toEqual([
      {
        source: 'OUTBOX_CLOUDEVENTS_SOURCE',
        reason: 'must be a URI-reference, e.g. /edupulse or https://edupulse.example.com',
      },
    ]);
  });

  it('names the variables of bounds that contradict each other', () => {
    expect(
      issuesOf(() =>
        outboxOptionsFromEnv({
          OUTBOX_RETRY_BASE_MS: '60000',
          OUTBOX_RETRY_MAX_MS: '1000',
          OUTBOX_HEALTH_BACKLOG_WARN: '100',
          OUTBOX_HEALTH_BACKLOG_MAX: '10',
        }),
      ),
    ).toEqual([
      {
        source: 'OUTBOX_RETRY_BASE_MS',
        reason: '(60000) must not be above OUTBOX_RETRY_MAX_MS (1000)',
      },
      {
        source: 'OUTBOX_HEALTH_BACKLOG_WARN',
        reason: '(100) must not be above OUTBOX_HEALTH_BACKLOG_MAX (10)',
      },
    ]);
    // Equal bounds, or one bound alone (the library's default applies later), pass here.
    expect(
      outboxOptionsFromEnv({ OUTBOX_RETRY_BASE_MS: '1000', OUTBOX_RETRY_MAX_MS: '1000' }),
    ).toEqual({ retry: { baseMs: 1_000, maxMs: 1_000 } });
    expect(outboxOptionsFromEnv({ OUTBOX_RETRY_BASE_MS: '999999' })).toEqual({
      retry: { baseMs: 999_999 },
    });
  });
});
