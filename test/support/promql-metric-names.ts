/** Words of PromQL that look like metric names but are not. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric (and recording rule) names a PromQL expression selects, as written: what is left
 * once strings, label matchers, ranges, grouping clauses, numbers, functions and keywords are
 * set aside. Grafana's variables (`$job`, `$__rate_interval`) may appear where PromQL allows
 * a string or a duration, and `label_values(metric, label)` (a Grafana variable query) is read
 * as its metric.
 */
export function promqlMetricNames(expr: string): string[] {
  const labelValues = /^\s*label_values\(\s*(?:(.+?)\s*,\s*)?[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$/.exec(
    expr,
  );
  if (labelValues) return labelValues[1] ? promqlMetricNames(labelValues[1]) : [];
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ')
    .replace(/\boffset\s+-?[\w$]+/gi, ' ')
    .replace(/\$\{?\w+\}?/g, ' ');
  const names = new Set<string>();
  const token = /(\d+(?:\.\d+)?(?:e[+-]?\d+)?[a-z]*)|([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/gi;
  for (const [, number, name, call] of stripped.matchAll(token)) {
    if (number || call || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}
