import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/edupulse/app.module.js';
import { eventually } from './support/eventually.js';
import { TestStream } from './support/jetstream.js';
import { freePort } from './support/ports.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { TEST_DATABASE_URL, TEST_NATS_URL, uniqueName } from './support/test-env.js';

describe('the example service starting while PostgreSQL is unreachable', () => {
  const schema = uniqueName('edupulse_startup');
  const stream = new TestStream();
  const admin = new DataSource({ type: 'postgres', url: TEST_DATABASE_URL });
  let proxy: TcpProxy;
  let app: INestApplication;

  beforeAll(async () => {
    await admin.initialize();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await stream.connect();
    const target = new URL(TEST_DATABASE_URL);
    proxy = new TcpProxy(await freePort(), Number(target.port || 5432));
  });

  afterAll(async () => {
    await app?.close();
    await proxy.stop();
    await stream.destroy();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.destroy();
  });

  it('starts anyway, is live but not ready, then becomes ready and serves once the database answers', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.port = String(proxy.port);
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.forRoot(
          { databaseUrl: url.toString(), databaseSchema: schema, port: 0 },
          {
            NATS_SERVERS: TEST_NATS_URL,
            OUTBOX_STREAM: stream.stream,
            OUTBOX_SUBJECT_PREFIX: stream.subjectPrefix,
          },
        ),
      ],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const server = app.getHttpServer() as Parameters<typeof request>[0];

    expect((await request(server).get('/health/live')).status).toBe(200);
    const ready = await request(server).get('/health/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.error.outbox_database).toMatchObject({ status: 'down' });
    expect(JSON.stringify(ready.body)).not.toContain(url.toString());
    await request(server).post('/pulses').send({ title: 'Early', authorId: 't' }).expect(503);

    await proxy.start();
    await eventually(async () => (await request(server).get('/health/ready')).status === 200, {
      timeoutMs: 30_000,
      what: 'ready once PostgreSQL answers',
    });
    await request(server).post('/pulses').send({ title: 'Later', authorId: 't' }).expect(201);
  });
});
