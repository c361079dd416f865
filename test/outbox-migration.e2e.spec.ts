import { DataSource } from 'typeorm';
import { CreateEventOutbox1732300000000 } from '../migrations/1732300000000-create-event-outbox.js';
import { createOutboxMigration } from '../src/outbox/index.js';
import { TEST_DATABASE_URL, uniqueName } from './support/test-env.js';

/** The migration users add to their DataSource, run and reverted by TypeORM itself. */
describe('the outbox table migration', () => {
  const admin = new DataSource({ type: 'postgres', url: TEST_DATABASE_URL });
  /** Every test migrates a schema (and a migrations table) of its own, in any order. */
  const schemas: string[] = [];
  const freshSchema = () => {
    const schema = uniqueName('outbox_migration');
    schemas.push(schema);
    return schema;
  };

  const withMigrations = (schema: string, migrations: (new () => unknown)[]) =>
    new DataSource({
      type: 'postgres',
      url: TEST_DATABASE_URL,
      migrations,
      migrationsTableName: `${schema}_migrations`,
    });

  const tables = async (schema: string) =>
    (
      await admin.query<{ table_name: string }[]>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1`,
        [schema],
      )
    ).map((r) => r.table_name);

  beforeAll(() => admin.initialize());

  afterAll(async () => {
    for (const schema of schemas) {
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.query(`DROP TABLE IF EXISTS "${schema}_migrations"`);
    }
    await admin.destroy();
  });

  it('creates the schema and the table it is given, under its own name, and drops the table on revert', async () => {
    const schema = freshSchema();
    const dataSource = withMigrations(schema, [
      createOutboxMigration({
        table: 'shop_outbox',
        schema,
        name: 'CreateShopOutbox1732300000123',
      }),
    ]);
    await dataSource.initialize();
    try {
      const ran = await dataSource.runMigrations();
      expect(ran.map((m) => m.name)).toEqual(['CreateShopOutbox1732300000123']);
      expect(await tables(schema)).toEqual(['shop_outbox']);

      await dataSource.undoLastMigration();
      expect(await tables(schema)).toEqual([]);
    } finally {
      await dataSource.destroy();
    }
  });

  it('reads OUTBOX_TABLE and OUTBOX_SCHEMA when it runs, not when it is imported, through the target given at the edge', async () => {
    const schema = freshSchema();
    const dataSource = withMigrations(schema, [CreateEventOutbox1732300000000]);
    const saved = { table: process.env.OUTBOX_TABLE, schema: process.env.OUTBOX_SCHEMA };
    process.env.OUTBOX_TABLE = 'from_env_outbox';
    process.env.OUTBOX_SCHEMA = schema;
    await dataSource.initialize();
    try {
      const ran = await dataSource.runMigrations();
      expect(ran.map((m) => m.name)).toEqual(['CreateEventOutbox1732300000000']);
      expect(await tables(schema)).toEqual(['from_env_outbox']);
    } finally {
      await dataSource.destroy();
      for (const [key, value] of [
        ['OUTBOX_TABLE', saved.table],
        ['OUTBOX_SCHEMA', saved.schema],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
