import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadAppConfig } from '../src/edupulse/app.config.js';
import { OUTBOX_SETTINGS, OutboxConfigError, resolveOutboxOptions } from '../src/outbox/index.js';
import { TEST_DATABASE_URL } from './support/test-env.js';

const root = join(__dirname, '..');

describe('configuration', () => {
  it('applies defaults when nothing is set', () => {
    const options = resolveOutboxOptions({ env: {} });
    expect(options).toMatchObject({
      table: 'event_outbox',
      relayCron: '* * * * * *',
      batchSize: 500,
      subjectPrefix: 'edupulse.domain.events',
      stream: 'EDUPULSE_DOMAIN_EVENTS',
      natsServers: ['nats://127.0.0.1:4222'],
      createStream: true,
      requireTransaction: true,
    });
  });

  it('reads the environment, and forRoot options win over it', () => {
    const env = {
      OUTBOX_BATCH_SIZE: '42',
      OUTBOX_TABLE: 'from_env',
      NATS_SERVERS: 'nats://a:1,nats://b:2',
    };
    expect(resolveOutboxOptions({ env })).toMatchObject({
      batchSize: 42,
      table: 'from_env',
      natsServers: ['nats://a:1', 'nats://b:2'],
    });
    expect(resolveOutboxOptions({ env, batchSize: 7 }).batchSize).toBe(7);
  });

  it('names every bad variable and why, in one error', () => {
    const env = {
      OUTBOX_BATCH_SIZE: 'lots',
      OUTBOX_TABLE: 'event_outbox; DROP TABLE users',
      OUTBOX_RELAY_CRON: 'every second',
      OUTBOX_STREAM_CREATE: 'maybe',
      NATS_SERVERS: 'http://user:secret@host',
    };
    let error: unknown;
    try {
      resolveOutboxOptions({ env });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OutboxConfigError);
    const { issues, message } = error as OutboxConfigError;
    expect(issues.map((i) => i.source)).toEqual([
      'OUTBOX_TABLE',
      'OUTBOX_RELAY_CRON',
      'OUTBOX_BATCH_SIZE',
      'NATS_SERVERS',
      'OUTBOX_STREAM_CREATE',
    ]);
    expect(message).toMatch(/OUTBOX_TABLE: must be a lower-case SQL identifier/);
    expect(message).toMatch(/OUTBOX_RELAY_CRON: is not a cron expression/);
    expect(message).not.toContain('secret');
  });

  it('names the forRoot option when the bad value came from code', () => {
    expect(() => resolveOutboxOptions({ env: {}, batchSize: 0 })).toThrow(
      /forRoot\(\{ batchSize \}\): must be at least 1/,
    );
  });

  it('publishes the plain envelope unless a CloudEvents format is chosen', () => {
    expect(resolveOutboxOptions({ env: {} })).toMatchObject({
      messageFormat: 'envelope',
      cloudEventsSource: undefined,
    });
    const env = {
      OUTBOX_MESSAGE_FORMAT: 'cloudevents-structured',
      OUTBOX_CLOUDEVENTS_SOURCE: 'https://edupulse.example.com/api',
    };
    expect(resolveOutboxOptions({ env })).toMatchObject({
      messageFormat: 'cloudevents-structured',
      cloudEventsSource: 'https://edupulse.example.com/api',
    });
  });

  it('requires OUTBOX_CLOUDEVENTS_SOURCE with a CloudEvents format, and a valid one', () => {
    const missing = () => resolveOutboxOptions({ env: {}, messageFormat: 'cloudevents-binary' });
    expect(missing).toThrow(OutboxConfigError);
    expect(missing).toThrow(
      /OUTBOX_CLOUDEVENTS_SOURCE: is required with message format cloudevents-binary/,
    );
    // A bad source is reported once, as bad, not also as missing.
    let error: unknown;
    try {
      resolveOutboxOptions({
        env: {
          OUTBOX_MESSAGE_FORMAT: 'cloudevents-binary',
          OUTBOX_CLOUDEVENTS_SOURCE: 'my service',
        },
      });
    } catch (e) {
      error = e;
    }
    expect((error as OutboxConfigError).issues).toEqual([
      {
        source: 'OUTBOX_CLOUDEVENTS_SOURCE',
        reason: expect.stringMatching(/must be a URI-reference.*\(got "my service"\)/),
      },
    ]);
    expect(() => resolveOutboxOptions({ env: { OUTBOX_MESSAGE_FORMAT: 'cloudevents' } })).toThrow(
      /OUTBOX_MESSAGE_FORMAT: must be envelope, cloudevents-binary or cloudevents-structured/,
    );
  });

  it('lists every setting in .env.example with its default', () => {
    const example = readFileSync(join(root, '.env.example'), 'utf8');
    for (const setting of OUTBOX_SETTINGS) {
      expect(example).toMatch(
        new RegExp(`^#? ?${setting.env}=${escape(setting.default ?? '')}$`, 'm'),
      );
    }
    for (const name of ['DATABASE_URL', 'DATABASE_SCHEMA', 'PORT']) {
      expect(example).toMatch(new RegExp(`^#? ?${name}=`, 'm'));
    }
  });

  it('documents every setting in the README', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    for (const setting of OUTBOX_SETTINGS) expect(readme).toContain(`\`${setting.env}\``);
  });

  it('validates the example service variables without echoing the database URL', () => {
    const bad = () => loadAppConfig({ PORT: 'eighty', DATABASE_URL: 'mysql://u:hunter2@h/db' });
    expect(bad).toThrow(/PORT: must be a number/);
    expect(bad).toThrow(/DATABASE_URL: must be a postgres:\/\/ URL/);
    expect(() => loadAppConfig({ DATABASE_URL: 'mysql://u:hunter2@h/db' })).not.toThrow(/hunter2/);
  });

  it.each([
    ['OUTBOX_BATCH_SIZE', 'abc'],
    ['PORT', '-1'],
  ])('stops the example service with exit code 1 when %s=%s', (name, value) => {
    const result = spawnSync(process.execPath, [join(root, 'dist/src/edupulse/main.js')], {
      env: { ...process.env, DATABASE_URL: TEST_DATABASE_URL, PORT: '0', [name]: value },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(name);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
