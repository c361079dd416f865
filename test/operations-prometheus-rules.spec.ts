import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isMap, isSeq, parse, parseDocument } from 'yaml';
import {
  alertRules,
  markdownAnchors,
  readRules,
  RULES_FILE,
  RULES_TEST_FILE,
  RUNBOOK_FILE,
} from './support/deploy-files.js';

const PROMTOOL = process.env.PROMTOOL_BIN ?? '/usr/bin/promtool';

/** Runs promtool; a missing promtool fails the test (it is not skipped). */
function promtool(...args: string[]): string {
  const result = spawnSync(PROMTOOL, args, {
    cwd: dirname(RULES_FILE),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) {
    throw new Error(
      `${PROMTOOL} could not run (${result.error.message}): install the Debian package "prometheus" (.ci/run does), or set PROMTOOL_BIN`,
    );
  }
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`promtool ${args.join(' ')} failed:\n${output}`);
  return output;
}

describe('the Prometheus rules in deploy/prometheus', () => {
  it('are valid rules (promtool check rules)', () => {
    expect(promtool('check', 'rules', RULES_FILE)).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('pass their unit tests (promtool test rules outbox-rules.test.yml)', () => {
    expect(promtool('test', 'rules', RULES_TEST_FILE)).toMatch(/SUCCESS/);
  });

  it('have every alert fire in at least one unit test', () => {
    const tests = parse(readFileSync(RULES_TEST_FILE, 'utf8')) as {
      tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests
        .flatMap((t) => t.alert_rule_test ?? [])
        .filter((a) => a.exp_alerts.length > 0)
        .map((a) => a.alertname),
    );
    const alerts = alertRules(readRules()).map((r) => r.alert);
    expect(alerts.length).toBeGreaterThanOrEqual(5);
    expect(alerts.filter((a) => !fired.has(a))).toEqual([]);
  });

  it('cover the outbox failures the issue names', () => {
    const alerts = alertRules(readRules());
    const exprOf = (name: string) => alerts.find((a) => a.alert === name)?.expr ?? '';
    // The shipped age threshold is the library's default for "degraded" backlog health.
    expect(exprOf('OutboxOldestPendingEventTooOld')).toMatch(
      /outbox_oldest_pending_age_seconds:max > 300$/,
    );
    expect(exprOf('OutboxDeadLettersAppeared')).toMatch(/outbox_dead_letters/);
    expect(exprOf('OutboxRelayStalled')).toMatch(/outbox_backlog_events[\s\S]*unless/);
    expect(exprOf('OutboxBrokerOutage')).toMatch(/outbox_broker_outage_batches/);
    expect(exprOf('OutboxPublishFailureRateHigh')).toMatch(/outbox_publish_failures:ratio/);
  });

  it('give every alert a severity, a summary, a description and a runbook section that exists', () => {
    const anchors = markdownAnchors(RUNBOOK_FILE);
    for (const alert of alertRules(readRules())) {
      expect({ alert: alert.alert, severity: alert.labels?.severity }).toEqual({
        alert: alert.alert,
        severity: expect.stringMatching(/^(critical|warning|info)$/),
      });
      expect(alert.annotations?.summary).toBeTruthy();
      expect(alert.annotations?.description).toBeTruthy();
      const [file, anchor] = (alert.annotations?.runbook_url ?? '').split('#');
      expect({ alert: alert.alert, file, known: anchors.has(anchor) }).toEqual({
        alert: alert.alert,
        file: 'docs/runbook.md',
        known: true,
      });
    }
  });

  it('explain every alert in a comment above it', () => {
    const doc = parseDocument(readFileSync(RULES_FILE, 'utf8'));
    const groups = doc.get('groups');
    if (!isSeq(groups)) throw new Error('groups is not a list');
    const uncommented: string[] = [];
    for (const group of groups.items) {
      if (!isMap(group)) continue;
      const rules = group.get('rules');
      if (!isSeq(rules)) continue;
      for (const rule of rules.items) {
        if (isMap(rule) && rule.has('alert') && !rule.commentBefore?.trim()) {
          uncommented.push(String(rule.get('alert')));
        }
      }
    }
    expect(uncommented).toEqual([]);
  });
});
