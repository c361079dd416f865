import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
/** What tsconfig.build.json compiles into dist/ (with what the fault suite's worker imports). */
const SOURCES = ['src', 'migrations', 'bench', 'tools', 'test/support', 'test/faults'];
/** Emitted by every build (tsc rewrites all its outputs), so its age is the build's. */
const MARKER = join(ROOT, 'dist/src/edupulse/main.js');

function newestSource(): number {
  let newest = 0;
  for (const dir of SOURCES) {
    for (const entry of readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })) {
      if (
        entry.isFile() &&
        entry.name.endsWith('.ts') &&
        !/\.(fault-)?spec\.ts$/.test(entry.name)
      ) {
        newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
      }
    }
  }
  return newest;
}

function builtAt(): number {
  try {
    return statSync(MARKER).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Tests that spawn compiled files (the example service, the fault suite's relay workers) must
 * not run stale code: `npm test` builds first, but `npx jest` does not, so build here when any
 * source is newer than the last build.
 */
export default function globalSetup(): void {
  if (builtAt() >= newestSource()) return;
  console.log('\ndist/ is older than the sources: building (tsc -p tsconfig.build.json)');
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
}
