import type { DataSource } from 'typeorm';
import {
  defineDomainEvent,
  type DomainEvent,
  type OutboxRepository,
} from '../../src/outbox/index.js';
import type { StoredMessage } from '../support/jetstream.js';
import { outboxOn } from '../support/outbox-options.js';
import { startRelayApp } from '../support/relay-app.js';

export const LessonStep = defineDomainEvent<{ seq: number; pad?: string }>({
  type: 'lesson.step_recorded',
  version: '1.0',
  aggregateType: 'lesson',
});

export interface Workload {
  /** event id → aggregate and per-aggregate sequence, for every committed event. */
  readonly committed: Map<string, { aggregate: string; seq: number }>;
  readonly rolledBack: Set<string>;
}

export function emptyWorkload(): Workload {
  return { committed: new Map(), rolledBack: new Set() };
}

/**
 * Commits `events` events spread round-robin over `aggregates` aggregates, `perTransaction`
 * per transaction; one transaction in `rollbackEvery` writes its events and then rolls back.
 */
export async function writeEvents(
  dataSource: DataSource,
  repository: OutboxRepository,
  workload: Workload,
  {
    events,
    aggregates,
    perTransaction = 100,
    rollbackEvery = 10,
    poisonEvery = 0,
    pad = '',
  }: {
    events: number;
    aggregates: number;
    perTransaction?: number;
    rollbackEvery?: number;
    /** Every n-th event becomes a payload too large for the broker, on an aggregate of its own. */
    poisonEvery?: number;
    pad?: string;
  },
): Promise<string[]> {
  const poison: string[] = [];
  const seqs = new Map<string, number>();
  let written = 0;
  for (let tx = 0; written < events; tx++) {
    const batch: DomainEvent[] = [];
    const meta: [string, { aggregate: string; seq: number }][] = [];
    for (let i = 0; i < perTransaction && written < events; i++, written++) {
      if (poisonEvery > 0 && written % poisonEvery === poisonEvery - 1) {
        const event = LessonStep.create(`poison-${written}`, { seq: 1, pad: 'x'.repeat(4_000) });
        batch.push(event);
        poison.push(event.eventId);
        continue;
      }
      const aggregate = `lesson-${written % aggregates}`;
      const seq = (seqs.get(aggregate) ?? 0) + 1;
      const event = LessonStep.create(aggregate, { seq, pad });
      batch.push(event);
      meta.push([event.eventId, { aggregate, seq }]);
    }
    const rollBack = rollbackEvery > 0 && tx % rollbackEvery === rollbackEvery - 1;
    if (rollBack) {
      await dataSource
        .transaction(async (m) => {
          await repository.add(m, batch);
          throw new Error('rolled back on purpose');
        })
        .catch(() => undefined);
      for (const e of batch) {
        workload.rolledBack.add(e.eventId);
        if (poison.at(-1) === e.eventId) poison.pop();
      }
      continue;
    }
    await dataSource.transaction((m) => repository.add(m, batch));
    for (const [id, info] of meta) {
      workload.committed.set(id, info);
      seqs.set(info.aggregate, info.seq);
    }
  }
  return poison;
}

/**
 * A backlog: `writeEvents` through an application whose relay is off, closed afterwards, so
 * the relays a test then starts find every event committed and nothing yet published.
 */
export async function writeBacklog(
  table: { readonly table: string; readonly dataSource: DataSource },
  stream: { readonly stream: string; readonly subjectPrefix: string },
  options: Parameters<typeof writeEvents>[3],
): Promise<Workload> {
  const writer = await startRelayApp({ ...outboxOn(table, stream), relayEnabled: false });
  try {
    const workload = emptyWorkload();
    await writeEvents(table.dataSource, writer.repository, workload, options);
    return workload;
  } finally {
    await writer.app.close();
  }
}

export interface Verdict {
  readonly stored: number;
  readonly missing: number;
  readonly duplicates: number;
  readonly rolledBackPublished: number;
  readonly orderViolations: number;
}

/** What the broker holds against what was committed. */
export function verify(messages: readonly StoredMessage[], workload: Workload): Verdict {
  const seen = new Map<string, number>();
  const lastSeq = new Map<string, number>();
  let orderViolations = 0;
  let rolledBackPublished = 0;
  for (const m of messages) {
    const id = m.msgId ?? '';
    seen.set(id, (seen.get(id) ?? 0) + 1);
    if (workload.rolledBack.has(id)) rolledBackPublished++;
    const info = workload.committed.get(id);
    if (!info || seen.get(id)! > 1) continue;
    if ((lastSeq.get(info.aggregate) ?? 0) + 1 !== info.seq) orderViolations++;
    lastSeq.set(info.aggregate, info.seq);
  }
  let missing = 0;
  for (const id of workload.committed.keys()) if (!seen.has(id)) missing++;
  const duplicates = [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
  return { stored: messages.length, missing, duplicates, rolledBackPublished, orderViolations };
}

/** The fault suite's verdict: every committed event stored once, none rolled back, in order. */
export function expectEveryCommittedEventOnceInOrder(verdict: Verdict, workload: Workload): void {
  expect(verdict).toMatchObject({
    missing: 0,
    duplicates: 0,
    rolledBackPublished: 0,
    orderViolations: 0,
  });
  expect(verdict.stored).toBe(workload.committed.size);
}
