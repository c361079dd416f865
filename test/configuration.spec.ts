import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAppConfig } from '../src/edupulse/app.config.js';
import { outboxConfigFromEnv } from '../src/edupulse/outbox.config.js';
import { resolveOutboxOptions } from '../src/outbox/config/resolve-outbox-options.js';
import { resolveInboxOptions } from '../src/outbox/inbox/resolve-inbox-options.js';
import { inboxOptionsFromEnv } from '../src/outbox/inbox/index.js';
import { OutboxConfigError, outboxOptionsFromEnv } from '../src/outbox/index.js';
import { natsTransport, natsTransportOptionsFromEnv } from '../src/outbox/nats/index.js';
import {
  rabbitmqTransport,
  rabbitmqTransportOptionsFromEnv,
} from '../src/outbox/rabbitmq/index.js';
import { renderConfigurationReference, renderEnvExample } from '../tools/config-reference.js';
import { TEST_DATABASE_URL } from './support/test-env.js';

const root = join(__dirname, '..');
const transport = natsTransport();

/** The `OutboxConfigError` `run` throws; fails the test when it throws nothing. */
function configError(run: () => unknown): OutboxConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(OutboxConfigError);
    return error as OutboxConfigError;
  }
  throw new Error('expected an OutboxConfigError, and nothing was thrown');
}

describe('configuration', () => {
  it('applies defaults that name nothing of the example service', () => {
    expect(resolveOutboxOptions({ transport })).toMatchObject({
      table: 'event_outbox',
      relayCron: '* * * * * *',
      batchSize: 500,
      requireTransaction: true,
      messageFormat: 'envelope',
      cloudEventsSource: undefined,
    });
    const text = JSON.stringify([
      natsTransportOptionsFromEnv({}),
      rabbitmqTransportOptionsFromEnv({}),
      renderConfigurationReference().split('EduPulse')[0],
    ]);
    expect(text).not.toMatch(/edupulse/i);
  });

  it('takes grouped options in code, and reads no environment by itself', () => {
    const before = process.env.OUTBOX_BATCH_SIZE;
    process.env.OUTBOX_BATCH_SIZE = '42';
    try {
      expect(resolveOutboxOptions({ transport }).batchSize).toBe(500);
    } finally {
      if (before === undefined) delete process.env.OUTBOX_BATCH_SIZE;
      else process.env.OUTBOX_BATCH_SIZE = before;
    }
    expect(
      resolveOutboxOptions({ transport, relay: { batchSize: 7 }, retry: { maxAttempts: 3 } }),
    ).toMatchObject({ batchSize: 7, maxAttempts: 3 });
  });

  it('turns the environment into options at the edge, with the example’s own defaults', () => {
    const env = { OUTBOX_BATCH_SIZE: '42', OUTBOX_TABLE: 'from_env', OUTBOX_RETENTION: '12h' };
    expect(outboxOptionsFromEnv(env)).toEqual({
      table: 'from_env',
      relay: { batchSize: 42 },
      retention: { keepFor: 43_200_000 },
    });
    expect(natsTransportOptionsFromEnv({ NATS_SERVERS: 'nats://a:1,nats://b:2' })).toEqual({
      servers: ['nats://a:1', 'nats://b:2'],
    });
    // The example service keeps every variable and default of before.
    const example = outboxConfigFromEnv({});
    expect(example).toMatchObject({
      broker: 'nats',
      nats: { subjectPrefix: 'edupulse.domain.events', stream: 'EDUPULSE_DOMAIN_EVENTS' },
    });
    expect(outboxConfigFromEnv({ OUTBOX_TRANSPORT: 'rabbitmq' })).toMatchObject({
      broker: 'rabbitmq',
      rabbitmq: { exchange: 'edupulse.domain.events' },
    });
  });

  it('names every bad variable and why, in one error, never echoing a credential', () => {
    const { issues, message } = configError(() =>
      outboxConfigFromEnv({
        OUTBOX_BATCH_SIZE: 'lots',
        OUTBOX_TABLE: 'event_outbox; DROP TABLE users',
        OUTBOX_RELAY_CRON: 'every second',
        OUTBOX_STREAM_CREATE: 'maybe',
        NATS_SERVERS: 'http://user:secret@host',
        OUTBOX_INBOX_RETENTION: '0',
      }),
    );
    expect(issues.map((i) => i.source)).toEqual([
      'OUTBOX_TABLE',
      'OUTBOX_RELAY_CRON',
      'OUTBOX_BATCH_SIZE',
      'OUTBOX_INBOX_RETENTION',
      'NATS_SERVERS',
      'OUTBOX_STREAM_CREATE',
    ]);
    expect(message).toMatch(/OUTBOX_TABLE: must be a lower-case SQL identifier/);
    expect(message).toMatch(/OUTBOX_RELAY_CRON: is not a cron expression/);
    expect(message).not.toContain('secret');
  });

  it('refuses a URL that passes the pattern but not the parser, without echoing it', () => {
    for (const url of ['amqp://user:hunter2@host:99999', 'amqp://user:hunter2@[::1']) {
      const { message } = configError(() => rabbitmqTransportOptionsFromEnv({ RABBITMQ_URL: url }));
      expect(message).toMatch(/RABBITMQ_URL: must be a valid URL/);
      expect(message).not.toContain('hunter2');
    }
    expect(
      configError(() => natsTransportOptionsFromEnv({ NATS_SERVERS: 'nats://h:99999' })).message,
    ).toMatch(/NATS_SERVERS: must be a valid URL/);
  });

  it('refuses settings that validate but cannot work, naming each variable', () => {
    const { issues, message } = configError(() =>
      outboxOptionsFromEnv({
        OUTBOX_RELAY_CRON: '0 0 0 30 2 *',
        OUTBOX_RETENTION: '99999999d',
        OUTBOX_RETRY_BASE_MS: '60000',
        OUTBOX_RETRY_MAX_MS: '1000',
        OUTBOX_HEALTH_BACKLOG_WARN: '100',
        OUTBOX_HEALTH_BACKLOG_MAX: '10',
      }),
    );
    expect(issues.map((i) => i.source)).toEqual([
      'OUTBOX_RELAY_CRON',
      'OUTBOX_RETENTION',
      'OUTBOX_RETRY_BASE_MS',
      'OUTBOX_HEALTH_BACKLOG_WARN',
    ]);
    expect(message).toMatch(/OUTBOX_RELAY_CRON: never fires/);
    expect(message).toMatch(/OUTBOX_RETENTION: must be 3650d \(10 years\) at most/);
    expect(message).toMatch(
      /OUTBOX_RETRY_BASE_MS: \(60000\) must not be above OUTBOX_RETRY_MAX_MS/,
    );
  });

  it('never echoes a CloudEvents source, and refuses one that holds credentials', () => {
    for (const source of ['https://u:hunter2@host/a b', 'https://u:hunter2@host/svc']) {
      const { message } = configError(() =>
        outboxOptionsFromEnv({
          OUTBOX_MESSAGE_FORMAT: 'cloudevents-binary',
          OUTBOX_CLOUDEVENTS_SOURCE: source,
        }),
      );
      expect(message).toMatch(/OUTBOX_CLOUDEVENTS_SOURCE/);
      expect(message).not.toContain('hunter2');
    }
  });

  it('names the option, as written in code, when the bad value came from code', () => {
    expect(() => resolveOutboxOptions({ transport, relay: { batchSize: 0 } })).toThrow(
      /forRoot\(\{ relay: \{ batchSize \} \}\): must be at least 1/,
    );
    expect(() => natsTransport({ stream: 'no spaces' })).toThrow(
      /natsTransport\(\{ stream \}\): must be letters, digits, _ or -/,
    );
    expect(() => rabbitmqTransport({ exchange: '' })).toThrow(
      /rabbitmqTransport\(\{ exchange \}\)/,
    );
  });

  it('publishes the plain envelope unless a CloudEvents format is chosen', () => {
    const env = {
      OUTBOX_MESSAGE_FORMAT: 'cloudevents-structured',
      OUTBOX_CLOUDEVENTS_SOURCE: 'https://edupulse.example.com/api',
    };
    expect(resolveOutboxOptions({ ...outboxOptionsFromEnv(env), transport })).toMatchObject({
      messageFormat: 'cloudevents-structured',
      cloudEventsSource: 'https://edupulse.example.com/api',
    });
  });

  it('requires OUTBOX_CLOUDEVENTS_SOURCE with a CloudEvents format, and a valid one', () => {
    const missing = () =>
      resolveOutboxOptions({ transport, messages: { format: 'cloudevents-binary' } });
    expect(missing).toThrow(
      /OUTBOX_CLOUDEVENTS_SOURCE: is required with message format cloudevents-binary/,
    );
    expect(() => outboxOptionsFromEnv({ OUTBOX_MESSAGE_FORMAT: 'cloudevents-binary' })).toThrow(
      /OUTBOX_CLOUDEVENTS_SOURCE: is required/,
    );
    // A bad source is reported once, as bad, not also as missing.
    const { issues } = configError(() =>
      outboxOptionsFromEnv({
        OUTBOX_MESSAGE_FORMAT: 'cloudevents-binary',
        OUTBOX_CLOUDEVENTS_SOURCE: 'my service',
      }),
    );
    expect(issues).toEqual([
      {
        source: 'OUTBOX_CLOUDEVENTS_SOURCE',
        // Named, never echoed: a source may be a URL, and a URL may hold credentials.
        reason: 'must be a URI-reference, e.g. /edupulse or https://edupulse.example.com',
      },
    ]);
    expect(() => outboxOptionsFromEnv({ OUTBOX_MESSAGE_FORMAT: 'cloudevents' })).toThrow(
      /OUTBOX_MESSAGE_FORMAT: must be envelope, cloudevents-binary or cloudevents-structured/,
    );
  });

  it('resolves the inbox settings: defaults, environment, options, and one error naming each bad one', () => {
    expect(resolveInboxOptions({})).toEqual({
      table: 'event_inbox',
      schema: undefined,
      retentionMs: 7 * 86_400_000,
      purgeCron: '0 * * * * *',
      purgeBatchSize: 1000,
    });
    const env = { OUTBOX_INBOX_TABLE: 'consumed', OUTBOX_INBOX_RETENTION: '12h' };
    expect(resolveInboxOptions(inboxOptionsFromEnv(env))).toMatchObject({
      table: 'consumed',
      retentionMs: 43_200_000,
    });
    const bad = () =>
      inboxOptionsFromEnv({
        OUTBOX_INBOX_TABLE: 'inbox; DROP TABLE users',
        OUTBOX_INBOX_RETENTION: '0',
      });
    expect(bad).toThrow(/OUTBOX_INBOX_TABLE: must be a lower-case SQL identifier/);
    expect(bad).toThrow(/OUTBOX_INBOX_RETENTION: must be more than 0/);
    expect(() => resolveInboxOptions({ purgeBatchSize: 0 })).toThrow(
      /OutboxInboxModule\.forRoot\(\{ purgeBatchSize \}\): must be at least 1/,
    );
  });

  it('keeps .env.example and docs/configuration.md as the settings declare them (npm run docs:config)', () => {
    expect(readFileSync(join(root, '.env.example'), 'utf8')).toBe(renderEnvExample());
    // Prettier aligns the table's columns; compare the cells.
    const cells = (markdown: string) =>
      markdown
        .split('\n')
        .map((line) => line.split('|').map((c) => c.trim().replace(/^-+$/, '-')))
        .map((row) => row.join('|'))
        .join('\n');
    expect(cells(readFileSync(join(root, 'docs', 'configuration.md'), 'utf8'))).toBe(
      cells(renderConfigurationReference()),
    );
    for (const name of ['OUTBOX_TRANSPORT', 'NATS_SERVERS', 'RABBITMQ_URL', 'OUTBOX_INBOX_TABLE']) {
      expect(renderEnvExample()).toMatch(new RegExp(`^${name}=`, 'm'));
    }
  });

  it('validates the example service variables without echoing the database URL', () => {
    const bad = () => loadAppConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://u:hunter2@h/db' });
    expect(bad).toThrow(/PORT: must be a number/);
    expect(bad).toThrow(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(configError(bad).message).not.toMatch(/hunter2/);
  });

  it.each([
    ['OUTBOX_BATCH_SIZE', 'abc'],
    ['OUTBOX_INBOX_RETENTION', '0'],
    ['PORT', '-1'],
    ['RABBITMQ_URL', 'amqp://u:hunter2@h:99999'],
  ])('stops the example service with exit code 1 when %s=%s', (name, value) => {
    const result = spawnSync(process.execPath, [join(root, 'dist/src/edupulse/main.js')], {
      env: {
        ...process.env,
        DATABASE_URL: TEST_DATABASE_URL,
        PORT: '0',
        OUTBOX_TRANSPORT: name === 'RABBITMQ_URL' ? 'rabbitmq' : 'nats',
        [name]: value,
      },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(name);
    expect(result.stderr).not.toContain('hunter2');
  });
});
