import { readFileSync } from 'node:fs';
import { DASHBOARD_FILE, readRules } from './support/deploy-files.js';
import { libraryMetrics, librarySeriesNames } from './support/library-metrics.js';
import { promqlMetricNames } from './support/promql-metric-names.js';

interface Target {
  readonly expr?: string;
  readonly datasource?: { type?: string; uid?: string };
}
interface Panel {
  readonly id: number;
  readonly type: string;
  readonly title: string;
  readonly datasource?: { type?: string; uid?: string };
  readonly targets?: Target[];
  readonly panels?: Panel[];
}
interface Dashboard {
  readonly uid: string;
  readonly title: string;
  readonly panels: Panel[];
  readonly templating: {
    list: {
      name: string;
      type: string;
      query?: string | { query: string };
      datasource?: { uid?: string };
    }[];
  };
}

const readDashboard = () => JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard;
const allPanels = (panels: Panel[]): Panel[] =>
  panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);

describe('the metric names in deploy/', () => {
  const series = librarySeriesNames();

  it('are read from the library: its providers register the metrics the docs list', () => {
    const names = libraryMetrics().map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'outbox_events_written_total',
        'outbox_events_published_total',
        'outbox_backlog_events',
        'outbox_oldest_pending_age_seconds',
        'outbox_publish_lag_seconds',
        'outbox_consumer_dead_letters_total',
        'outbox_consumer_redeliveries_total',
      ]),
    );
    expect(series.has('outbox_publish_lag_seconds_bucket')).toBe(true);
    expect(series.has('outbox_publish_lag_seconds')).toBe(false);
    // With a prefix, every name carries it.
    expect(libraryMetrics('shop_').every((m) => m.name.startsWith('shop_outbox_'))).toBe(true);
  });

  it('are found in PromQL and Grafana queries by the extractor', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (job, le) (rate(outbox_publish_lag_seconds_bucket{job=~"$job", le!="0.5"}[$__rate_interval])))',
      ),
    ).toEqual(['outbox_publish_lag_seconds_bucket']);
    expect(
      promqlMetricNames(
        'job:a:max > 0 unless on (job) sum(rate(outbox_x_total[5m] offset 1h)) by (job) > bool 1e3',
      ),
    ).toEqual(['job:a:max', 'outbox_x_total']);
    expect(promqlMetricNames('label_values(outbox_backlog_events, job)')).toEqual([
      'outbox_backlog_events',
    ]);
    expect(promqlMetricNames('label_values(job)')).toEqual([]);
  });

  it('in the rules are metrics the library registers, or recording rules defined before use', () => {
    const recorded = new Set<string>();
    const unknown: string[] = [];
    let libraryNames = 0;
    for (const group of readRules().groups) {
      for (const rule of group.rules) {
        for (const name of promqlMetricNames(rule.expr)) {
          if (name.includes(':')) {
            if (!recorded.has(name)) unknown.push(`${rule.record ?? rule.alert}: ${name}`);
          } else if (series.has(name)) {
            libraryNames++;
          } else {
            unknown.push(`${rule.record ?? rule.alert}: ${name}`);
          }
        }
        if (rule.record) recorded.add(rule.record);
      }
    }
    expect(unknown).toEqual([]);
    expect(libraryNames).toBeGreaterThan(10);
  });

  it('in the Grafana dashboard are metrics the library registers (no recording rule needed)', () => {
    const dashboard = readDashboard();
    const queries = [
      ...allPanels(dashboard.panels).flatMap((p) =>
        (p.targets ?? []).map((t) => ({ where: p.title, expr: t.expr ?? '' })),
      ),
      ...dashboard.templating.list
        .filter((v) => v.type === 'query')
        .map((v) => ({
          where: `$${v.name}`,
          expr: typeof v.query === 'string' ? v.query : (v.query?.query ?? ''),
        })),
    ];
    const unknown = queries.flatMap(({ where, expr }) =>
      promqlMetricNames(expr)
        .filter((name) => !series.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    const used = new Set(queries.flatMap(({ expr }) => promqlMetricNames(expr)));
    expect(used.size).toBeGreaterThan(10);
  });
});

describe('the Grafana dashboard', () => {
  const dashboard = readDashboard();
  const panels = allPanels(dashboard.panels);

  it('is importable: a uid, a title, unique panel ids, a query in every target', () => {
    expect(dashboard.uid).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
    expect(dashboard.title).toBeTruthy();
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of panels.filter((p) => p.type !== 'row')) {
      expect(panel.targets?.length).toBeGreaterThan(0);
      for (const target of panel.targets ?? []) expect(target.expr).toBeTruthy();
    }
  });

  it('takes its Prometheus from a `datasource` template variable, in every panel and query', () => {
    const variable = dashboard.templating.list.find((v) => v.name === 'datasource');
    expect(variable).toMatchObject({ type: 'datasource', query: 'prometheus' });
    const uses = [
      ...panels.filter((p) => p.type !== 'row').map((p) => p.datasource?.uid),
      ...panels.flatMap((p) => (p.targets ?? []).map((t) => t.datasource?.uid)),
      ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => v.datasource?.uid),
    ];
    expect(new Set(uses)).toEqual(new Set(['${datasource}']));
  });

  it.each([
    ['written and published rates', /written and published/i, ['written_total', 'published_total']],
    ['backlog and oldest age', /backlog and oldest/i, ['backlog_events', 'oldest_pending_age']],
    ['commit-to-publish lag p50 and p99', /lag/i, ['publish_lag_seconds_bucket']],
    [
      'failures, dead letters and outage batches',
      /failures, dead letters and broker outages/i,
      ['failed_total', 'dead_lettered_total', 'broker_outage_batches_total'],
    ],
    ['batch duration', /batch duration/i, ['batch_duration_seconds_bucket']],
    [
      'consumer redeliveries and dead letters',
      /consumer redeliveries and dead letters/i,
      ['consumer_redeliveries_total', 'consumer_dead_letters_total'],
    ],
  ])('has a panel of %s', (_what, title, metrics) => {
    const panel = panels.find((p) => p.type === 'timeseries' && title.test(p.title));
    expect(panel).toBeDefined();
    const exprs = (panel!.targets ?? []).map((t) => t.expr ?? '').join('\n');
    for (const metric of metrics) expect(exprs).toContain(metric);
    if (/lag|duration/i.test(panel!.title)) {
      expect(exprs).toMatch(/histogram_quantile\(0\.5,/);
      expect(exprs).toMatch(/histogram_quantile\(0\.99,/);
    }
  });
});
