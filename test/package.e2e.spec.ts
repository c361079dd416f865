import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { TestStream } from './support/jetstream.js';
import { TEST_DATABASE_URL, uniqueName } from './support/test-env.js';

const run = promisify(execFile);
const root = join(__dirname, '..');

interface PackageJson {
  name: string;
  exports: Record<string, string | { types?: string; default: string }>;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
}

/**
 * The environment of the npm and node children: without the `npm_*` variables of the
 * `npm test` running us, which npm would read as its own configuration.
 */
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_')),
);

async function readJson<T>(path: string): Promise<T> {
  return JSON.parse(await readFile(path, 'utf8')) as T;
}

/**
 * `npm pack` as a user of the repository runs it, installed into a scratch Nest service that
 * boots against the real PostgreSQL and NATS. Nothing here imports from src/: the service
 * reaches the library only through the tarball.
 */
describe('the npm package', () => {
  const repoPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const stream = new TestStream();
  const schema = uniqueName('outbox_pkg');
  const migrationsTableName = `${schema}_migrations`;
  const dataSource = new DataSource({ type: 'postgres', url: TEST_DATABASE_URL });
  let workDir: string;
  let appDir: string;
  let packed: { filename: string; size: number; files: { path: string }[] };

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'outbox-package-'));
    appDir = join(workDir, 'app');
    await Promise.all([dataSource.initialize(), stream.connect()]);

    // prepack builds dist/lib; its logs go to stderr, so stdout is the JSON report.
    const pack = await run('npm', ['pack', '--json', '--pack-destination', workDir], {
      cwd: root,
      env: childEnv,
      timeout: 180_000,
    });
    [packed] = JSON.parse(pack.stdout) as (typeof packed)[];

    // A user's service: the tarball plus the required peers at the versions this repository
    // is tested with; the optional peers (prom-client, @opentelemetry/api) left out.
    const peers = Object.keys(repoPackage.peerDependencies).filter(
      (name) => !repoPackage.peerDependenciesMeta[name]?.optional,
    );
    await cp(join(__dirname, 'package-app'), appDir, { recursive: true });
    await writeFile(
      join(appDir, 'package.json'),
      JSON.stringify({
        name: 'outbox-package-app',
        private: true,
        dependencies: {
          [repoPackage.name]: `file:${join(workDir, packed.filename)}`,
          ...Object.fromEntries(peers.map((name) => [name, repoPackage.devDependencies[name]])),
          '@types/node': repoPackage.devDependencies['@types/node'],
        },
      }),
    );
    // The cache holds every package after the repository's `npm ci`.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: appDir,
      env: childEnv,
      timeout: 240_000,
    });
  }, 420_000);

  afterAll(async () => {
    await stream.destroy();
    if (dataSource.isInitialized) {
      await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await dataSource.query(`DROP TABLE IF EXISTS "${migrationsTableName}"`);
      await dataSource.destroy();
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('holds the compiled library with its declarations, and none of the repository around it', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/lib/index.js.map',
        'dist/lib/outbox.module.js',
        'dist/lib/persistence/outbox-table.migration.js',
      ]),
    );
    expect(paths.filter((p) => !p.startsWith('dist/lib/'))).toEqual(['README.md', 'package.json']);
    // Source maps carry the TypeScript inline; no source file, spec or example ships.
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(
      paths.filter((p) => /\/(edupulse|cli|bench|migrations|test)\/|\.spec\./.test(p)),
    ).toEqual([]);
    const modules = paths.filter((p) => p.endsWith('.js'));
    expect(modules.length).toBeGreaterThan(30);
    expect(modules.filter((p) => !paths.includes(p.replace(/\.js$/, '.d.ts')))).toEqual([]);
  });

  it('shares Nest, TypeORM and the driver with the app, and installs without the optional peers', async () => {
    const installed = join(appDir, 'node_modules', repoPackage.name);
    const manifest = await readJson<PackageJson>(join(installed, 'package.json'));
    const shared = [
      '@nestjs/common',
      '@nestjs/core',
      '@nestjs/microservices',
      '@nestjs/schedule',
      '@nestjs/terminus',
      '@nestjs/typeorm',
      'typeorm',
      'pg',
      'rxjs',
      'reflect-metadata',
    ];
    expect(Object.keys(manifest.peerDependencies)).toEqual(expect.arrayContaining(shared));
    expect(Object.keys(manifest.dependencies).filter((d) => shared.includes(d))).toEqual([]);
    expect(manifest.peerDependenciesMeta).toEqual({
      '@opentelemetry/api': { optional: true },
      'prom-client': { optional: true },
    });
    // No private copy of anything next to the package: one Nest, one TypeORM, the app's.
    expect(existsSync(join(installed, 'node_modules'))).toBe(false);
    expect(existsSync(join(appDir, 'node_modules', 'prom-client'))).toBe(false);
    expect(existsSync(join(appDir, 'node_modules', '@opentelemetry', 'api'))).toBe(false);
  });

  it('resolves every entry of the exports map, from require and from import', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module';
         const require = createRequire(process.cwd() + '/');
         const pkg = require('${repoPackage.name}/package.json');
         const entries = {};
         for (const subpath of Object.keys(pkg.exports)) {
           const specifier = pkg.name + subpath.slice(1);
           entries[subpath] = [require.resolve(specifier), import.meta.resolve(specifier)];
         }
         const root = await import(pkg.name);
         console.log(JSON.stringify({ entries, names: Object.keys(root) }));`,
      ],
      { cwd: appDir, env: childEnv, timeout: 60_000 },
    );
    const { entries, names } = JSON.parse(stdout) as {
      entries: Record<string, [string, string]>;
      names: string[];
    };
    const installed = join(appDir, 'node_modules', repoPackage.name);
    expect(Object.keys(entries)).toEqual(Object.keys(repoPackage.exports));
    const missing: string[] = [];
    for (const [subpath, [required, imported]] of Object.entries(entries)) {
      const target = repoPackage.exports[subpath];
      const file = join(installed, typeof target === 'string' ? target : target.default);
      expect({ subpath, required, imported }).toEqual({
        subpath,
        required: file,
        imported: `file://${file}`,
      });
      // Declarations beside each JavaScript entry, where TypeScript looks for them, and
      // wherever a `types` condition points.
      const declarations = file.endsWith('.js') ? [file.replace(/\.js$/, '.d.ts')] : [];
      if (typeof target !== 'string' && target.types)
        declarations.push(join(installed, target.types));
      missing.push(...[file, ...declarations].filter((f) => !existsSync(f)));
    }
    expect(missing).toEqual([]);
    // An ECMAScript-module app imports the CommonJS build by name, too.
    expect(names).toEqual(
      expect.arrayContaining(['OutboxModule', 'OutboxRepository', 'createOutboxMigration']),
    );
  });

  it('type-checks a strict service against the packed declarations', async () => {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    // skipLibCheck stays off: the package's own .d.ts files are checked too.
    await run(process.execPath, [tsc, '-p', join(appDir, 'tsconfig.json')], {
      cwd: appDir,
      env: childEnv,
      timeout: 180_000,
    });
    expect(existsSync(join(appDir, 'app.js'))).toBe(true);
  }, 180_000);

  it('boots that service: it migrates its table, records an event in a transaction and publishes it', async () => {
    const table = 'event_outbox';
    const config = {
      databaseUrl: TEST_DATABASE_URL,
      migrationsTableName,
      outbox: {
        table,
        schema,
        natsServers: [stream.natsUrl],
        stream: stream.stream,
        subjectPrefix: stream.subjectPrefix,
      },
    };
    // The service exits by itself once closed: a handle left open would time it out.
    const { stdout } = await run(process.execPath, ['app.js', JSON.stringify(config)], {
      cwd: appDir,
      env: childEnv,
      timeout: 60_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as {
      eventId: string;
      publishedTotal: number;
      lastError: string | null;
      migrations: string[];
    };

    expect(result).toMatchObject({ publishedTotal: 1, lastError: null });
    expect(result.migrations).toEqual(['CreateEventOutbox1732300000000']);
    const rows = await dataSource.query<{ event_id: string; published: boolean }[]>(
      `SELECT event_id, published_at IS NOT NULL AS published FROM "${schema}"."${table}"`,
    );
    expect(rows).toEqual([{ event_id: result.eventId, published: true }]);
    const messages = await stream.messages();
    expect(messages.map((m) => [m.subject, m.msgId, m.body.event_id])).toEqual([
      [`${stream.subjectPrefix}.package.installed`, result.eventId, result.eventId],
    ]);
  }, 90_000);
});
