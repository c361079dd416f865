import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

export const ROOT = join(__dirname, '..', '..');
export const RULES_FILE = join(ROOT, 'deploy', 'prometheus', 'outbox-rules.yml');
export const RULES_TEST_FILE = join(ROOT, 'deploy', 'prometheus', 'outbox-rules.test.yml');
export const DASHBOARD_FILE = join(ROOT, 'deploy', 'grafana', 'outbox-dashboard.json');
export const RUNBOOK_FILE = join(ROOT, 'docs', 'runbook.md');

export interface PromRule {
  readonly record?: string;
  readonly alert?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

export interface PromRuleFile {
  groups: { name: string; interval?: string; rules: PromRule[] }[];
}

/** The shipped rule file, parsed. */
export function readRules(): PromRuleFile {
  return parse(readFileSync(RULES_FILE, 'utf8')) as PromRuleFile;
}

export const alertRules = (file: PromRuleFile) =>
  file.groups.flatMap((g) => g.rules).filter((r): r is PromRule & { alert: string } => !!r.alert);

/** GitHub's anchor for a Markdown heading. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors of every heading of a Markdown file. */
export function markdownAnchors(file: string): Set<string> {
  const anchors = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) anchors.add(headingAnchor(heading[1]));
  }
  return anchors;
}
