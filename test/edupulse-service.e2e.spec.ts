import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/edupulse/app.module.js';
import { DatabaseConnector } from '../src/edupulse/database/database-connector.js';
import { connectEventConsumers, EDUPULSE_CONSUMER_GROUP } from '../src/edupulse/event-consumers.js';
import { outboxConfigFromEnv } from '../src/edupulse/outbox.config.js';
import { PULSE_STATS_CONSUMER } from '../src/edupulse/pulses/pulse-stats.consumer.js';
import { eventually } from './support/eventually.js';
import { TestStream, type StoredMessage } from './support/jetstream.js';
import { sampleValue } from './support/prometheus-text.js';
import { TEST_DATABASE_URL, TEST_NATS_URL, uniqueName } from './support/test-env.js';

describe('the EduPulse example service', () => {
  const schema = uniqueName('edupulse');
  const stream = new TestStream();
  const admin = new DataSource({ type: 'postgres', url: TEST_DATABASE_URL });
  let app: INestApplication;

  beforeAll(async () => {
    await admin.initialize();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await stream.connect();
    const env = {
      NATS_SERVERS: TEST_NATS_URL,
      OUTBOX_STREAM: stream.stream,
      OUTBOX_SUBJECT_PREFIX: stream.subjectPrefix,
      // A copy re-published a second later is stored again, as one after the default
      // two minutes would be.
      OUTBOX_STREAM_DUPLICATE_WINDOW_MS: '1000',
    };
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.forRoot({ databaseUrl: TEST_DATABASE_URL, databaseSchema: schema, port: 0 }, env),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: ['error', 'warn'] });
    connectEventConsumers(app, outboxConfigFromEnv(env));
    await app.init();
    await app.startAllMicroservices();
    await eventually(() => app.get(DatabaseConnector).connected, { what: 'migrations to run' });
  });

  afterAll(async () => {
    await app?.close();
    await stream.destroy();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.destroy();
  });

  const server = () => app.getHttpServer() as Parameters<typeof request>[0];

  async function messageFor(aggregateId: string): Promise<StoredMessage> {
    return eventually(
      async () => {
        if (!(await stream.exists())) return undefined;
        return (await stream.messages()).find((m) => m.body.aggregate_id === aggregateId);
      },
      { what: `the event of ${aggregateId}` },
    );
  }

  it('POST /pulses stores the pulse and publishes learning_pulse.created', async () => {
    const res = await request(server())
      .post('/pulses')
      .send({ title: 'Photosynthesis', summary: 'Light to sugar', authorId: 'teacher-1' })
      .expect(201);
    const { id } = res.body as { id: string };

    const message = await messageFor(id);
    expect(message.subject).toBe(`${stream.subjectPrefix}.learning_pulse.created`);
    expect(message.msgId).toBe(message.body.event_id);
    expect(message.body).toMatchObject({
      event_type: 'learning_pulse.created',
      event_version: '1.0',
      aggregate_type: 'learning_pulse',
      aggregate_id: id,
      payload: {
        pulse_id: id,
        title: 'Photosynthesis',
        summary: 'Light to sugar',
        author_id: 'teacher-1',
      },
    });
    expect(new Date(message.body.occurred_at as string).toISOString()).toBe(
      message.body.occurred_at,
    );
  });

  it('POST /pulses/:id/submissions publishes submission.received; an unknown pulse is 404 with no event', async () => {
    const pulse = await request(server()).post('/pulses').send({ title: 'Cells', authorId: 't' });
    const pulseId = (pulse.body as { id: string }).id;

    const unknown = '00000000-0000-4000-8000-000000000000';
    await request(server())
      .post(`/pulses/${unknown}/submissions`)
      .send({ studentId: 's-9' })
      .expect(404);

    const res = await request(server())
      .post(`/pulses/${pulseId}/submissions`)
      .send({ studentId: 's-1', answer: 'Mitochondria' })
      .expect(201);
    const submissionId = (res.body as { id: string }).id;
    const message = await messageFor(submissionId);
    expect(message.subject).toBe(`${stream.subjectPrefix}.submission.received`);
    expect(message.body.payload).toEqual({
      submission_id: submissionId,
      pulse_id: pulseId,
      student_id: 's-1',
      answer: 'Mitochondria',
    });

    const rows = await admin.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${schema}".event_outbox WHERE payload->>'student_id' = 's-9'`,
    );
    expect(rows[0].n).toBe(0);
  });

  it('rejects invalid bodies with 400 naming the field, and records no event', async () => {
    const before = await admin.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${schema}".event_outbox`,
    );
    const res = await request(server())
      .post('/pulses')
      .send({ title: '', authorId: 7 })
      .expect(400);
    expect(res.body.message).toMatch(/title: must not be empty/);
    expect(res.body.message).toMatch(/authorId/);
    await request(server())
      .post('/pulses/not-a-uuid/submissions')
      .send({ studentId: 's' })
      .expect(400);
    const after = await admin.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${schema}".event_outbox`,
    );
    expect(after[0].n).toBe(before[0].n);
  });

  it('answers 400 for text PostgreSQL cannot store, 415 for a form post, and stores the text \\u0000', async () => {
    const count = async () =>
      (
        await admin.query<{ n: number }[]>(
          `SELECT count(*)::int AS n FROM "${schema}".event_outbox`,
        )
      )[0].n;
    const before = await count();
    const nul = await request(server())
      .post('/pulses')
      .send({ title: 'a\u0000b', authorId: 't' })
      .expect(400);
    expect(nul.body.message).toMatch(/title: must not contain a NUL character/);
    const lone = await request(server())
      .post('/pulses')
      .send({ title: 'x', authorId: 'lone \ud800' })
      .expect(400);
    expect(lone.body.message).toMatch(/authorId: must not contain a lone surrogate/);
    // A cross-site HTML form posts form-encoded bodies without a preflight.
    await request(server())
      .post('/pulses')
      .type('form')
      .send({ title: 'From a form', authorId: 't' })
      .expect(415);
    expect(await count()).toBe(before);

    const literal = await request(server())
      .post('/pulses')
      .send({ title: 'strings end in \\u0000', authorId: 't' })
      .expect(201);
    expect(literal.headers['x-powered-by']).toBeUndefined();
    const fetched = await request(server()).get(`/pulses/${literal.body.id}`).expect(200);
    expect(fetched.body.title).toBe('strings end in \\u0000');
    expect(await count()).toBe(before + 1);
  });

  it('GET /metrics serves the outbox metrics in the Prometheus text format', async () => {
    const pulse = await request(server()).post('/pulses').send({ title: 'Metrics', authorId: 't' });
    await messageFor((pulse.body as { id: string }).id);

    const published = await eventually(
      async () => {
        const res = await request(server()).get('/metrics').expect(200);
        expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
        const text = res.text;
        const value = sampleValue(text, 'outbox_events_published_total', {
          event_type: 'learning_pulse.created',
        });
        return value !== undefined && value >= 1 && text;
      },
      { what: 'the published pulse in /metrics' },
    );
    expect(sampleValue(published, 'outbox_backlog_up')).toBe(1);
    expect(sampleValue(published, 'outbox_publish_lag_seconds_count')).toBeGreaterThanOrEqual(1);
    // The example's own consumer counts its dead letters on the same endpoint.
    expect(
      sampleValue(published, 'outbox_consumer_dead_letters_total', {
        transport: 'nats-jetstream',
        pattern: 'submission.received',
      }),
    ).toBe(0);
  });

  it('counts each submission once from its own submission.received events, and a copy stored again is acknowledged, not counted', async () => {
    const pulse = await request(server()).post('/pulses').send({ title: 'Tides', authorId: 't' });
    const pulseId = (pulse.body as { id: string }).id;
    const view = await request(server()).get(`/pulses/${pulseId}`).expect(200);
    expect(view.body).toMatchObject({ id: pulseId, title: 'Tides', submissionCount: 0 });

    const submissionIds: string[] = [];
    for (const studentId of ['s-1', 's-2']) {
      const res = await request(server())
        .post(`/pulses/${pulseId}/submissions`)
        .send({ studentId })
        .expect(201);
      submissionIds.push((res.body as { id: string }).id);
    }
    const count = async () =>
      ((await request(server()).get(`/pulses/${pulseId}`)).body as { submissionCount: number })
        .submissionCount;
    await eventually(async () => (await count()) === 2, { what: 'the count to reach 2' });

    // The relay's copy of the first submission's event, stored again under a new sequence
    // once the duplicate window has passed (what a relay crash after the PubAck produces).
    const stored = await messageFor(submissionIds[0]);
    const copy = await eventually(
      async () => {
        const ack = await stream.republish(stored);
        return ack.duplicate ? undefined : ack;
      },
      { what: 'the copy to be stored again' },
    );
    const consumer = `${EDUPULSE_CONSUMER_GROUP}_submission_received`;
    await eventually(async () => (await stream.ackFloor(consumer)) >= copy.seq, {
      what: 'the copy to be delivered and acknowledged',
    });
    expect(await count()).toBe(2);
    const inbox = await admin.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM "${schema}".event_inbox WHERE consumer = $1 AND event_id = $2`,
      [PULSE_STATS_CONSUMER, stored.body.event_id],
    );
    expect(inbox[0].n).toBe(1);

    await request(server()).get('/pulses/00000000-0000-4000-8000-000000000000').expect(404);
  });
});
