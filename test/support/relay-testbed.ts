import { TestStream } from './jetstream.js';
import { TestOutboxTable } from './outbox-table.js';
import type { RelayApp } from './relay-app.js';

/**
 * A test file's own outbox table and JetStream stream, made before its tests and dropped after
 * them, and a slot for the relay a test starts: closed, and the table emptied, after each test.
 */
export function relayTestbed(): {
  readonly table: TestOutboxTable;
  readonly stream: TestStream;
  app: RelayApp | undefined;
} {
  const bed = {
    table: new TestOutboxTable(),
    stream: new TestStream(),
    app: undefined as RelayApp | undefined,
  };

  beforeAll(async () => {
    await bed.table.create();
    await (await bed.stream.connect()).create();
  });

  afterEach(async () => {
    await bed.app?.app.close();
    bed.app = undefined;
    await bed.table.dataSource.query(`DELETE FROM "${bed.table.table}"`);
  });

  afterAll(async () => {
    await bed.stream.destroy();
    await bed.table.drop();
  });

  return bed;
}
