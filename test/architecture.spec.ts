import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const LIBRARY = join(__dirname, '..', 'src', 'outbox');
const IMPORT = /(?:from|import)\s*\(?\s*'([^']+)'/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

function relativeImports(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)]
    .map(([, specifier]) => specifier)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => {
      const target = resolve(dirname(file), specifier.replace(/\.js$/, ''));
      return existsSync(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts');
    });
}

/** The library's top-level folder of a file; a file at the top level is a node of its own. */
function nodeOf(file: string): string {
  const [first, ...rest] = relative(LIBRARY, file).split(sep);
  return rest.length === 0 ? first : `${first}/`;
}

/** Every package imported by the files `entry` reaches through relative imports. */
function packagesReachedFrom(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (!specifier.startsWith('.'))
        packages.add(
          specifier
            .split('/')
            .slice(0, specifier.startsWith('@') ? 2 : 1)
            .join('/'),
        );
    }
    pending.push(...relativeImports(file));
  }
  return packages;
}

const BROKER_CLIENTS = [
  '@nats-io/jetstream',
  '@nats-io/transport-node',
  'amqplib',
  'amqp-connection-manager',
];

describe('the library layout', () => {
  it('forms layers: no folder imports one that imports it back, directly or around a loop', () => {
    const edges = new Map<string, Set<string>>();
    for (const file of sourceFiles(LIBRARY)) {
      const from = nodeOf(file);
      for (const target of relativeImports(file)) {
        const to = nodeOf(target);
        if (to === from) continue;
        if (!edges.has(from)) edges.set(from, new Set());
        edges.get(from)!.add(to);
      }
    }
    // Each edge that lies on a cycle: `to` reaches `from` again.
    const reaches = (start: string, goal: string) => {
      const seen = new Set<string>();
      const pending = [start];
      for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
        if (node === goal) return true;
        if (seen.has(node)) continue;
        seen.add(node);
        pending.push(...(edges.get(node) ?? []));
      }
      return false;
    };
    const cyclic = [...edges].flatMap(([from, tos]) =>
      [...tos].filter((to) => reaches(to, from)).map((to) => `${from} -> ${to}`),
    );
    expect(edges.size).toBeGreaterThan(10);
    expect(cyclic).toEqual([]);
  });

  it.each([
    ['index.ts', []],
    ['metrics/index.ts', []],
    ['tracing/index.ts', []],
  ])('%s reaches no broker client, so each stays an optional peer of its adapter', (entry) => {
    const packages = [...packagesReachedFrom(join(LIBRARY, entry))];
    expect(packages).toContain('@nestjs/common');
    expect(packages.filter((p) => BROKER_CLIENTS.includes(p))).toEqual([]);
  });

  it('keeps each optional integration out of the core entry point', () => {
    const core = [...packagesReachedFrom(join(LIBRARY, 'index.ts'))];
    expect([...packagesReachedFrom(join(LIBRARY, 'tracing', 'index.ts'))]).toContain(
      '@opentelemetry/api',
    );
    expect([...packagesReachedFrom(join(LIBRARY, 'metrics', 'index.ts'))]).toContain('prom-client');
    expect(core.filter((p) => p.startsWith('@opentelemetry/') || p === 'prom-client')).toEqual([]);
  });
});
