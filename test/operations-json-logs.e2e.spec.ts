import { spawnSync } from 'node:child_process';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { createAppLogger, logFormatFromEnv } from '../src/edupulse/logging.js';
import { OutboxModule, OutboxRepository } from '../src/outbox/index.js';
import { ChildService, EDUPULSE_MAIN, serviceEnv } from './support/child-service.js';
import { eventually } from './support/eventually.js';
import { PulseCreated, SubmissionReceived } from './support/events.js';
import { TestStream } from './support/jetstream.js';
import { outboxOn, outboxOptions } from './support/outbox-options.js';
import { TestOutboxTable } from './support/outbox-table.js';
import { freePort } from './support/ports.js';
import { TEST_DATABASE_URL, uniqueName } from './support/test-env.js';

/** One line of Nest's ConsoleLogger in JSON mode, with the structured fields beside. */
interface JsonLine {
  level: string;
  pid: number;
  timestamp: number;
  message: unknown;
  context?: string;
  [field: string]: unknown;
}

/** Every line must be one JSON object with a level, a timestamp and a message. */
function parseLines(lines: string[]): JsonLine[] {
  return lines
    .filter((line) => line.trim() !== '')
    .map((line) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(line);
      } catch {
        throw new Error(`not a JSON line: ${line}`);
      }
      expect(parsed).toEqual(
        expect.objectContaining({
          level: expect.any(String),
          pid: expect.any(Number),
          timestamp: expect.any(Number),
          message: expect.anything(),
        }),
      );
      return parsed as JsonLine;
    });
}

describe('LOG_FORMAT=json', () => {
  it('is read from the environment: text by default, json, and a clear error otherwise', () => {
    expect(logFormatFromEnv({})).toBe('text');
    expect(logFormatFromEnv({ LOG_FORMAT: 'json' })).toBe('json');
    expect(logFormatFromEnv({ LOG_FORMAT: ' JSON ' })).toBe('json');
    expect(() => logFormatFromEnv({ LOG_FORMAT: 'xml' })).toThrow(
      /LOG_FORMAT: must be text or json/,
    );
  });

  describe('in the example service (node dist/src/edupulse/main.js)', () => {
    const schema = uniqueName('edupulse_logs');
    const admin = new DataSource({ type: 'postgres', url: TEST_DATABASE_URL });
    const natsPassword = `nats-${uniqueName('pw')}`;
    const dbUrl = new URL(TEST_DATABASE_URL);
    // The machine's PostgreSQL trusts loopback, so a made-up password still connects; a
    // real one (from TEST_DATABASE_URL) must not leak either.
    if (!dbUrl.password) dbUrl.password = `db-${uniqueName('pw')}`;
    const secrets = [natsPassword, decodeURIComponent(dbUrl.password)];
    const service = new ChildService();

    beforeAll(async () => {
      await admin.initialize();
      await admin.query(`CREATE SCHEMA "${schema}"`);
    });

    afterAll(async () => {
      await service.stop();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.destroy();
    });

    it('writes only JSON lines, the relay with its structured fields, and never a password', async () => {
      const port = await freePort();
      // Nothing listens there: the relay cannot publish, and says so on every try.
      const natsUrl = `nats://edupulse:${natsPassword}@127.0.0.1:${await freePort()}`;
      service.start(
        serviceEnv({
          LOG_FORMAT: 'json',
          DATABASE_URL: dbUrl.toString(),
          DATABASE_SCHEMA: schema,
          PORT: String(port),
          NATS_SERVERS: natsUrl,
          OUTBOX_STREAM: uniqueName('LOGS').toUpperCase(),
          OUTBOX_SUBJECT_PREFIX: uniqueName('logs').replace(/_/g, '-'),
        }),
      );
      await service.waitForLine((l) => l.includes('Listening on port'), 'the service to listen');
      const base = `http://127.0.0.1:${port}`;
      await eventually(
        async () =>
          (
            await fetch(`${base}/pulses`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ title: 'Logged', authorId: 't' }),
            })
          ).status === 201,
        { what: 'a pulse written (once the migrations ran)', timeoutMs: 30_000, intervalMs: 200 },
      );
      // Readiness fails (the broker): terminus logs its report, in colour unless JSON.
      expect((await fetch(`${base}/health/ready`)).status).toBe(503);
      await service.waitForLine(
        (l) => l.includes('"errorKind":"unavailable"') && l.includes('"OutboxRelayService"'),
        "the relay's line about the unavailable broker",
      );
      await service.waitForLine((l) => l.includes('Health Check has failed'), "terminus's report");
      // A clean stop: Nest closes, then re-raises SIGTERM (no SIGKILL after the grace).
      expect(await service.stop()).toEqual({ code: null, signal: 'SIGTERM' });

      const lines = parseLines(service.lines);
      const relayLine = lines.find(
        (l) => l.context === 'OutboxRelayService' && l.errorKind === 'unavailable',
      )!;
      expect(relayLine).toEqual(
        expect.objectContaining({
          level: 'error',
          // The human-readable message stays as it was.
          message: expect.stringMatching(
            /^1 events not acknowledged and left pending \(broker unavailable, no attempt counted\); pausing \d+ ms; /,
          ),
          table: 'event_outbox',
          batchSize: 500,
          locked: 1,
          errorKind: 'unavailable',
          pauseMs: expect.any(Number),
          outageStreak: expect.any(Number),
        }),
      );
      // Errors go to stderr, the rest to stdout, each one JSON object per line.
      expect(service.stderr.some((l) => l.includes('"errorKind":"unavailable"'))).toBe(true);
      const listening = lines.find((l) => l.context === 'EduPulse')!;
      expect(listening).toMatchObject({ level: 'log', port, logFormat: 'json' });
      const report = lines.find((l) => String(l.message).includes('Health Check has failed'))!;
      expect(String(report.message)).not.toContain('\u001b[');

      const everything = service.lines.join('\n');
      for (const secret of secrets) expect(everything).not.toContain(secret);
      expect(everything).not.toContain(dbUrl.toString());
    });

    it('logs a configuration error as one JSON line on stderr and exits with 1', () => {
      const result = spawnSync(process.execPath, [EDUPULSE_MAIN], {
        env: serviceEnv({
          LOG_FORMAT: 'json',
          PORT: 'eighty',
          DATABASE_URL: `mysql://u:${natsPassword}@h/db`,
        }),
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).toBe(1);
      const [line, ...rest] = parseLines(result.stderr.split('\n'));
      expect(rest).toEqual([]);
      expect(line).toMatchObject({ level: 'fatal', context: 'EduPulse' });
      expect(line.message).toMatch(/PORT: must be a number/);
      expect(line.message).toMatch(/DATABASE_URL: must be a postgres:\/\/ URL/);
      expect(result.stderr + result.stdout).not.toContain(natsPassword);
    });

    it('refuses an unknown LOG_FORMAT, naming it', () => {
      const result = spawnSync(process.execPath, [EDUPULSE_MAIN], {
        env: serviceEnv({ LOG_FORMAT: 'xml', PORT: '0' }),
        encoding: 'utf8',
        timeout: 30_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/LOG_FORMAT: must be text or json \(got "xml"\)/);
    });
  });

  describe("in the relay's failing-batch line", () => {
    const stream = new TestStream();
    const table = new TestOutboxTable();
    let app: INestApplicationContext | undefined;
    let write: jest.SpyInstance | undefined;

    beforeAll(async () => {
      // Messages over 2,000 bytes are refused: a real poison event.
      await (await stream.connect()).create({ max_msg_size: 2_000 });
      await table.create();
    });

    afterAll(async () => {
      await app?.close();
      write?.mockRestore();
      await stream.destroy();
      await table.drop();
    });

    it('carries the table, batch size, counts and kinds of failure', async () => {
      const lines: string[] = [];
      write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
        lines.push(...String(chunk).split('\n').filter(Boolean));
        return true;
      });
      const moduleRef = await Test.createTestingModule({
        imports: [
          TypeOrmModule.forRoot({ type: 'postgres', url: TEST_DATABASE_URL, retryAttempts: 0 }),
          OutboxModule.forRoot(
            outboxOptions({
              ...outboxOn(table, stream),
              createStream: false,
              batchSize: 50,
              retryBaseMs: 50,
              retryMaxMs: 100,
            }),
          ),
        ],
      })
        .setLogger(createAppLogger('json'))
        .compile();
      app = await moduleRef.init();
      const poison = PulseCreated.create('poison', { text: 'x'.repeat(4_000) });
      await table.dataSource.transaction((m) =>
        app!.get(OutboxRepository).add(m, [poison, SubmissionReceived.create('s-1', { n: 1 })]),
      );

      const line = await eventually(
        () =>
          lines
            .map((l) => JSON.parse(l) as JsonLine)
            .find((l) => l.context === 'OutboxRelayService' && l.level === 'warn' && l.failed),
        { what: "the relay's warning about the failed event" },
      );
      expect(line).toEqual(
        expect.objectContaining({
          message: expect.stringMatching(
            /^1 of 2 events failed and will be retried or given up; first: Broker did not acknowledge event /,
          ),
          table: table.table,
          batchSize: 50,
          locked: 2,
          published: 1,
          failed: 1,
          deadLettered: 1,
          errorKind: 'never',
          failuresByKind: { never: 1 },
        }),
      );
    });
  });
});
