import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

const IMPORT = /(?:from|import)\s*\(?\s*'([^']+)'/g;

/** Every package imported by the files `entry` reaches through relative imports. */
function packagesReachedFrom(entry: string): Set<string> {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (!specifier.startsWith('.')) {
        packages.add(specifier);
        continue;
      }
      const target = resolve(dirname(file), specifier.replace(/\.js$/, ''));
      pending.push(existsSync(`${target}.ts`) ? `${target}.ts` : join(target, 'index.ts'));
    }
  }
  return packages;
}

describe('the optional tracing integration', () => {
  it('is not reached from the core entry point, so @opentelemetry/api stays optional', () => {
    const core = [...packagesReachedFrom(join(__dirname, '..', 'index.ts'))];
    const tracing = [...packagesReachedFrom(join(__dirname, 'index.ts'))];
    // The walk itself works: it finds the API from the tracing entry point.
    expect(tracing).toContain('@opentelemetry/api');
    expect(core).toContain('@nestjs/common');
    expect(core.filter((p) => p.startsWith('@opentelemetry/'))).toEqual([]);
  });
});
