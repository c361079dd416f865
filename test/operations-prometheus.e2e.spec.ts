import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { existsSync } from 'node:fs';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { AppModule } from '../src/edupulse/app.module.js';
import { DatabaseConnector } from '../src/edupulse/database/database-connector.js';
import { readRules, type PromRuleFile } from './support/deploy-files.js';
import { eventually } from './support/eventually.js';
import { freePort } from './support/ports.js';
import { PrivateNatsServer } from './support/private-nats.js';
import { PrivatePrometheus, type PrometheusAlert } from './support/private-prometheus.js';
import { sampleSum } from './support/prometheus-text.js';
import { TEST_DATABASE_URL, uniqueName } from './support/test-env.js';

const AGE_ALERT = 'OutboxOldestPendingEventTooOld';
/** The shortened rule: older than 3 s for 2 s, evaluated every second. */
const SHORT_THRESHOLD_SECONDS = 3;
const SHORT_FOR = '2s';

/**
 * The shipped rules with every group evaluated each second and the backlog-age alert's
 * threshold and `for` shortened; the rest as shipped, so a real Prometheus loads and
 * evaluates every rule of the file against the service's real metrics.
 */
function shortenedRules(): PromRuleFile {
  const file = readRules();
  let shortened = 0;
  for (const group of file.groups) {
    group.interval = '1s';
    group.rules = group.rules.map((rule) => {
      if (rule.alert !== AGE_ALERT) return rule;
      // Fails loudly if the shipped rule changes shape, rather than testing something else.
      expect(rule.expr).toMatch(/ > 300$/);
      shortened++;
      return {
        ...rule,
        expr: rule.expr.replace(/ > 300$/, ` > ${SHORT_THRESHOLD_SECONDS}`),
        for: SHORT_FOR,
      };
    });
  }
  expect(shortened).toBe(1);
  return file;
}

describe('the shipped Prometheus rules on a real Prometheus scraping the example service', () => {
  const schema = uniqueName('edupulse_prom');
  const admin = new DataSource({ type: 'postgres', url: TEST_DATABASE_URL });
  const nats = new PrivateNatsServer();
  const prometheus = new PrivatePrometheus();
  let app: INestApplication | undefined;

  beforeAll(async () => {
    await admin.initialize();
    await admin.query(`CREATE SCHEMA "${schema}"`);
    await nats.start();
  });

  afterAll(async () => {
    await prometheus.destroy();
    expect(existsSync(prometheus.dir)).toBe(false);
    await app?.close();
    await nats.destroy();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.destroy();
  });

  it('raises the backlog-age alert (pending, then firing) once the broker is stopped while events are written', async () => {
    const env = {
      NATS_SERVERS: nats.url,
      OUTBOX_STREAM: uniqueName('PROM').toUpperCase(),
      OUTBOX_SUBJECT_PREFIX: uniqueName('prom').replace(/_/g, '-') + '.events',
    };
    const port = await freePort();
    const moduleRef = await Test.createTestingModule({
      imports: [
        AppModule.forRoot({ databaseUrl: TEST_DATABASE_URL, databaseSchema: schema, port }, env),
      ],
    }).compile();
    // Quiet: the relay logs every failed try while the broker is down.
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(port, '127.0.0.1');
    await eventually(() => app!.get(DatabaseConnector).connected, { what: 'migrations to run' });
    const server = app.getHttpServer() as Parameters<typeof request>[0];
    const scrape = async () => (await request(server).get('/metrics')).text;

    // With the broker up, an event goes through: the pipeline works before the outage.
    await request(server).post('/pulses').send({ title: 'Before', authorId: 't' }).expect(201);
    await eventually(async () => sampleSum(await scrape(), 'outbox_events_published_total') >= 1, {
      what: 'the first event published',
    });

    await prometheus.start({
      job: 'edupulse',
      targets: [`127.0.0.1:${port}`],
      rules: shortenedRules(),
    });
    // Prometheus scrapes the service and records the age through the shipped recording rule.
    await eventually(
      async () =>
        (await prometheus.query('job:outbox_oldest_pending_age_seconds:max{job="edupulse"}'))
          .length === 1,
      { what: 'the recorded oldest-pending age', timeoutMs: 30_000, intervalMs: 250 },
    );
    const ageAlert = async () =>
      (await prometheus.alerts()).find((a) => a.labels.alertname === AGE_ALERT);
    expect(await ageAlert()).toBeUndefined();

    await nats.stop();
    const brokerStoppedAt = Date.now();
    for (let i = 0; i < 3; i++) {
      await request(server)
        .post('/pulses')
        .send({ title: `During outage ${i}`, authorId: 't' })
        .expect(201);
    }

    const seen: Partial<
      Record<PrometheusAlert['state'], { after: number; alert: PrometheusAlert }>
    > = {};
    await eventually(
      async () => {
        const alert = await ageAlert();
        if (alert && !seen[alert.state]) {
          seen[alert.state] = { after: (Date.now() - brokerStoppedAt) / 1_000, alert };
        }
        return alert?.state === 'firing';
      },
      { what: `${AGE_ALERT} to fire`, timeoutMs: 60_000, intervalMs: 250 },
    );
    const pending = seen.pending?.after;
    const firing = seen.firing!.after;
    console.log(
      `${AGE_ALERT} (shortened: age > ${SHORT_THRESHOLD_SECONDS} s for ${SHORT_FOR}; scrape and evaluation every 1 s): ` +
        `${pending === undefined ? 'pending not observed' : `pending ${pending.toFixed(1)} s`}, ` +
        `firing ${firing.toFixed(1)} s after the broker stopped`,
    );
    expect(seen.firing!.alert.labels).toMatchObject({ job: 'edupulse', severity: 'warning' });
    expect(seen.firing!.alert.annotations.runbook_url).toBe(
      'docs/runbook.md#outboxoldestpendingeventtooold',
    );
    // The age is measured from the first event written after the stop, so neither state can
    // appear before the threshold has passed.
    if (pending !== undefined) expect(pending).toBeGreaterThan(SHORT_THRESHOLD_SECONDS);
    expect(firing).toBeGreaterThan(SHORT_THRESHOLD_SECONDS);

    // Every shipped rule evaluated against the real metrics without an error.
    const rules = await prometheus.rules();
    expect(rules).toHaveLength(readRules().groups.flatMap((g) => g.rules).length);
    expect(rules.filter((r) => r.health === 'err').map((r) => `${r.name}: ${r.lastError}`)).toEqual(
      [],
    );
  });
});
