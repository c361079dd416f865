import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DataSource } from 'typeorm';
import { TestStream } from './support/jetstream.js';
import { TEST_RABBITMQ_URL, TestExchange } from './support/rabbitmq.js';
import { TEST_DATABASE_URL, uniqueName } from './support/test-env.js';
import { createOutboxTableSql } from '../src/outbox/table/outbox-table.sql.js';

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

const BROKER_PEERS = {
  nats: ['@nats-io/jetstream', '@nats-io/transport-node'],
  rabbitmq: ['amqplib', 'amqp-connection-manager'],
} as const;
type Broker = keyof typeof BROKER_PEERS;
const ALL_BROKER_PEERS: readonly string[] = [...BROKER_PEERS.nats, ...BROKER_PEERS.rabbitmq];

/**
 * `npm pack` as a user of the repository runs it, installed into two scratch Nest services
 * that boot against the real PostgreSQL and brokers: one with only the NATS peers, one with
 * only the RabbitMQ peers. The services reach the library only through the tarball.
 */
describe('the npm package', () => {
  const repoPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJson;
  const stream = new TestStream();
  const exchange = new TestExchange();
  const schema = uniqueName('outbox_pkg');
  const migrationsTableName = `${schema}_migrations`;
  const dataSource = new DataSource({ type: 'postgres', url: TEST_DATABASE_URL });
  let workDir: string;
  const appDirs = {} as Record<Broker, string>;
  /** `ok`, or what tsc said, per service. */
  const compiled = {} as Record<Broker, string>;
  let packed: { filename: string; size: number; files: { path: string }[] };

  /** A service directory with the tarball, the required peers and one broker's peers. */
  async function installApp(broker: Broker): Promise<string> {
    const dir = join(workDir, `${broker}-app`);
    await mkdir(dir);
    for (const file of ['service.ts', `${broker}-app.ts`]) {
      await cp(join(__dirname, 'package-app', file), join(dir, file));
    }
    // The shared tsconfig names service.ts; each service adds its own entry file.
    const tsconfig = await readJson<{ files: string[] }>(
      join(__dirname, 'package-app', 'tsconfig.json'),
    );
    tsconfig.files.push(`${broker}-app.ts`);
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const required = Object.keys(repoPackage.peerDependencies).filter(
      (name) => !repoPackage.peerDependenciesMeta[name]?.optional,
    );
    await writeFile(
      join(dir, 'package.json'),
      JSON.stringify({
        name: `outbox-package-${broker}-app`,
        private: true,
        dependencies: {
          [repoPackage.name]: `file:${join(workDir, packed.filename)}`,
          ...Object.fromEntries(
            [...required, ...BROKER_PEERS[broker]].map((name) => [
              name,
              repoPackage.devDependencies[name],
            ]),
          ),
          '@types/node': repoPackage.devDependencies['@types/node'],
        },
      }),
    );
    // The cache holds every package after the repository's `npm ci`.
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: dir,
      env: childEnv,
      timeout: 240_000,
    });
    return dir;
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'outbox-package-'));
    await Promise.all([dataSource.initialize(), stream.connect(), exchange.connect()]);
    await stream.create();

    // Packed from a copy of what the package is built from: prepack rebuilds dist/lib, and
    // other test files may be running from this checkout meanwhile.
    const source = join(workDir, 'source');
    await mkdir(source);
    for (const entry of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.lib.json']) {
      await cp(join(root, entry), join(source, entry));
    }
    await cp(join(root, 'src', 'outbox'), join(source, 'src', 'outbox'), { recursive: true });
    await symlink(join(root, 'node_modules'), join(source, 'node_modules'), 'dir');
    // prepack builds dist/lib; its logs go to stderr, so stdout is the JSON report.
    const pack = await run('npm', ['pack', '--json', '--pack-destination', workDir], {
      cwd: source,
      env: childEnv,
      timeout: 180_000,
    });
    [packed] = JSON.parse(pack.stdout) as (typeof packed)[];
    [appDirs.nats, appDirs.rabbitmq] = await Promise.all([
      installApp('nats'),
      installApp('rabbitmq'),
    ]);
    // Compiled here, once, so the tests that boot the services do not depend on running
    // after the type-check test; that test asserts the outcome.
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    for (const broker of ['nats', 'rabbitmq'] as const) {
      // skipLibCheck stays off: the package's own .d.ts files are checked too.
      compiled[broker] = await run(
        process.execPath,
        [tsc, '-p', join(appDirs[broker], 'tsconfig.json')],
        { cwd: appDirs[broker], env: childEnv, timeout: 180_000 },
      ).then(
        () => 'ok',
        (error: { stdout?: string; message: string }) => error.stdout || error.message,
      );
    }
  }, 660_000);

  afterAll(async () => {
    await stream.destroy();
    await exchange.destroy();
    if (dataSource.isInitialized) {
      await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await dataSource.query(`DROP TABLE IF EXISTS "${migrationsTableName}"`);
      await dataSource.destroy();
    }
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('holds the compiled library with its declarations and its CLI, and none of the repository around it', () => {
    const paths = packed.files.map((f) => f.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'package.json',
        'README.md',
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/lib/index.js.map',
        'dist/lib/outbox.module.js',
        'dist/lib/table/outbox-table.migration.js',
        'dist/lib/nats/index.js',
        'dist/lib/rabbitmq/index.js',
        'dist/lib/inbox/index.js',
        'dist/lib/testing/index.js',
        'dist/lib/cli/outbox-cli.js',
      ]),
    );
    expect(paths.filter((p) => !p.startsWith('dist/lib/'))).toEqual(['README.md', 'package.json']);
    // Source maps carry the TypeScript inline; no source file, spec or example ships.
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    expect(
      paths.filter((p) => /\/(edupulse|bench|migrations|test|tools)\/|\.spec\./.test(p)),
    ).toEqual([]);
    const modules = paths.filter((p) => p.endsWith('.js'));
    expect(modules.length).toBeGreaterThan(30);
    expect(modules.filter((p) => !paths.includes(p.replace(/\.js$/, '.d.ts')))).toEqual([]);
  });

  it('shares Nest, TypeORM and the driver with the app; each broker client is an optional peer', async () => {
    for (const broker of ['nats', 'rabbitmq'] as const) {
      const installed = join(appDirs[broker], 'node_modules', repoPackage.name);
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
      expect(
        Object.keys(manifest.dependencies).filter((d) => ALL_BROKER_PEERS.includes(d)),
      ).toEqual([]);
      expect(manifest.peerDependenciesMeta).toEqual({
        '@nats-io/jetstream': { optional: true },
        '@nats-io/transport-node': { optional: true },
        '@opentelemetry/api': { optional: true },
        'amqp-connection-manager': { optional: true },
        amqplib: { optional: true },
        'prom-client': { optional: true },
      });
      // No private copy of anything next to the package: one Nest, one TypeORM, the app's.
      expect(existsSync(join(installed, 'node_modules'))).toBe(false);
      expect(existsSync(join(appDirs[broker], 'node_modules', 'prom-client'))).toBe(false);
      // Only this service's broker client is installed.
      const other = broker === 'nats' ? BROKER_PEERS.rabbitmq : BROKER_PEERS.nats;
      for (const name of other) {
        expect(existsSync(join(appDirs[broker], 'node_modules', name))).toBe(false);
      }
    }
  });

  it.each(['nats', 'rabbitmq'] as const)(
    'loads no broker client through the main entry (%s peers installed); the adapter entry loads its own',
    async (broker) => {
      const { stdout } = await run(
        process.execPath,
        [
          '-e',
          `const loaded = () => Object.keys(require.cache).filter((p) =>
             /node_modules[\\\\/](@nats-io|amqplib|amqp-connection-manager)[\\\\/]/.test(p));
           const main = require('${repoPackage.name}');
           const fromMain = loaded();
           require('${repoPackage.name}/${broker}');
           console.log(JSON.stringify({ fromMain, fromAdapter: loaded().length, names: Object.keys(main) }));`,
        ],
        { cwd: appDirs[broker], env: childEnv, timeout: 60_000 },
      );
      const { fromMain, fromAdapter, names } = JSON.parse(stdout) as {
        fromMain: string[];
        fromAdapter: number;
        names: string[];
      };
      expect(fromMain).toEqual([]);
      expect(fromAdapter).toBeGreaterThan(0);
      // A public API a reader can hold in mind.
      expect(names.length).toBeLessThanOrEqual(30);
      expect(names).toEqual(
        expect.arrayContaining(['OutboxModule', 'OutboxRepository', 'createOutboxMigration']),
      );
    },
  );

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
      { cwd: appDirs.nats, env: childEnv, timeout: 60_000 },
    );
    const { entries, names } = JSON.parse(stdout) as {
      entries: Record<string, [string, string]>;
      names: string[];
    };
    const installed = join(appDirs.nats, 'node_modules', repoPackage.name);
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

  it.each(['nats', 'rabbitmq'] as const)(
    'type-checks a strict service with only the %s peers against the packed declarations',
    (broker) => {
      expect(compiled[broker]).toBe('ok');
      expect(existsSync(join(appDirs[broker], `${broker}-app.js`))).toBe(true);
    },
  );

  async function boot(broker: Broker, table: string, brokerConfig: Record<string, string>) {
    const config = {
      databaseUrl: TEST_DATABASE_URL,
      migrationsTableName: `${migrationsTableName}_${broker}`,
      table,
      schema,
      broker: brokerConfig,
    };
    await dataSource.query(`DROP TABLE IF EXISTS "${config.migrationsTableName}"`);
    // The service exits by itself once closed: a handle left open would time it out.
    const { stdout } = await run(process.execPath, [`${broker}-app.js`, JSON.stringify(config)], {
      cwd: appDirs[broker],
      env: childEnv,
      timeout: 60_000,
    });
    await dataSource.query(`DROP TABLE IF EXISTS "${config.migrationsTableName}"`);
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
    return result;
  }

  it('boots the NATS service: it migrates its table, records an event in a transaction and publishes it', async () => {
    const result = await boot('nats', 'nats_outbox', {
      url: stream.natsUrl,
      stream: stream.stream,
      subjectPrefix: stream.subjectPrefix,
    });
    const messages = await stream.messages();
    expect(messages.map((m) => [m.subject, m.msgId, m.body.event_id])).toEqual([
      [`${stream.subjectPrefix}.package.installed`, result.eventId, result.eventId],
    ]);
  }, 90_000);

  it('boots the RabbitMQ service the same way, with no NATS client installed', async () => {
    const queue = await exchange.bindQueue('#');
    const result = await boot('rabbitmq', 'rabbitmq_outbox', {
      url: TEST_RABBITMQ_URL,
      exchange: exchange.exchange,
    });
    const messages = await exchange.take(queue);
    expect(messages.map((m) => [m.routingKey, m.messageId])).toEqual([
      ['package.installed', result.eventId],
    ]);
  }, 90_000);

  it('runs its CLI with npx: help, and dead letters from the same environment as the service', async () => {
    const help = await run('npx', ['--no-install', 'nestjs-pg-outbox', '--help'], {
      cwd: appDirs.rabbitmq,
      env: childEnv,
      timeout: 60_000,
    });
    expect(help.stdout).toMatch(/Usage: nestjs-pg-outbox dead-letters/);
    // A table of its own, made the way the service's migration makes it.
    await dataSource.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
    for (const sql of createOutboxTableSql('cli_outbox', schema)) await dataSource.query(sql);
    const list = await run('npx', ['--no-install', 'nestjs-pg-outbox', 'dead-letters', 'list'], {
      cwd: appDirs.rabbitmq,
      env: {
        ...childEnv,
        DATABASE_URL: TEST_DATABASE_URL,
        OUTBOX_SCHEMA: schema,
        OUTBOX_TABLE: 'cli_outbox',
      },
      timeout: 60_000,
    });
    expect(list.stdout.trim()).toBe('No dead letters.');
  }, 90_000);
});
