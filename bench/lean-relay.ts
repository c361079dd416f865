import { headers, type Msg, type NatsConnection } from '@nats-io/transport-node';
import { Client } from 'pg';

/** How the hand-written relay batches: rows per claim, and claims in flight at once. */
export interface LeanRelaySettings {
  readonly batch: number;
  readonly inFlight: number;
  /** A batch whose PubAcks have not all come back by then marks what did. */
  readonly ackTimeoutMs: number;
}

/** What one lean drain did: events marked, and publishes JetStream refused or never answered. */
export interface LeanDrain {
  readonly marked: number;
  readonly refused: number;
  readonly seconds: number;
}

interface Row {
  id: string;
  event_id: string;
  event_type: string;
  payload: string;
}

/**
 * The lean reference relay: what a careful hand-written relay on the outbox table does, with
 * none of the library's generality (no ordering check, no retries, no instrumentation, no
 * Nest). `inFlight` loops each hold a `pg` connection; each claims `batch` pending rows with
 * `FOR UPDATE SKIP LOCKED` on the pending index's predicate, publishes every row with the core
 * client and a reply subject, and marks, in one UPDATE, only the rows whose PubAck came back.
 *
 * All replies arrive on one wildcard subscription. JetStream answers a publish with a reply
 * subject with a JSON PubAck `{stream, seq, duplicate?}` or `{error: {code, description}}`;
 * when no stream captures the subject, the server answers instead with a 503 "no responders"
 * status message (headers only), so that counts as a refusal too.
 */
export async function leanDrain(
  databaseUrl: string,
  nc: NatsConnection,
  target: { table: string; subjectPrefix: string },
  settings: LeanRelaySettings,
): Promise<LeanDrain> {
  const inbox = `_INBOX.lean.${Math.random().toString(36).slice(2)}`;
  const waiting = new Map<number, (acked: boolean) => void>();
  const subscription = nc.subscribe(`${inbox}.>`, {
    callback: (error, msg) => {
      if (error) return;
      const n = Number(msg.subject.slice(inbox.length + 1));
      waiting.get(n)?.(acknowledged(msg));
      waiting.delete(n);
    },
  });
  const clients = Array.from(
    { length: settings.inFlight },
    () => new Client({ connectionString: databaseUrl }),
  );
  let next = 0;
  let marked = 0;
  let refused = 0;
  const claim = `SELECT id, event_id, event_type, payload::text AS payload FROM "${target.table}"
                  WHERE published_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now()
                  ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`;
  const mark = `UPDATE "${target.table}" SET published_at = now() WHERE id = ANY($1::bigint[])`;
  const publishAll = (rows: readonly Row[]) =>
    Promise.all(
      rows.map(
        (row) =>
          new Promise<boolean>((resolve) => {
            const n = next++;
            waiting.set(n, resolve);
            const h = headers();
            h.set('Nats-Msg-Id', row.event_id);
            nc.publish(`${target.subjectPrefix}.${row.event_type}`, row.payload, {
              reply: `${inbox}.${n}`,
              headers: h,
            });
          }),
      ),
    );
  const loop = async (client: Client) => {
    // The library's claim transactions skip the WAL flush too (see operations.md).
    await client.query(`SET synchronous_commit = off`);
    for (;;) {
      await client.query('BEGIN');
      const { rows } = await client.query<Row>(claim, [settings.batch]);
      const first = next;
      const outcomes = await withTimeout(publishAll(rows), settings.ackTimeoutMs, () => {
        // Unanswered publishes stay pending: their rows are not marked.
        for (let n = first; n < first + rows.length; n++) waiting.get(n)?.(false);
      });
      const acked = rows.filter((_, i) => outcomes[i]).map((row) => row.id);
      if (acked.length > 0) await client.query(mark, [acked]);
      await client.query('COMMIT');
      marked += acked.length;
      refused += rows.length - acked.length;
      if (rows.length < settings.batch) return;
    }
  };
  try {
    await Promise.all(clients.map((c) => c.connect()));
    const t0 = performance.now();
    await Promise.all(clients.map(loop));
    return { marked, refused, seconds: (performance.now() - t0) / 1000 };
  } finally {
    subscription.unsubscribe();
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** A PubAck names the stream it stored into; an error body or a status message does not. */
function acknowledged(msg: Msg): boolean {
  if (msg.headers?.hasError || msg.data.length === 0) return false;
  try {
    const ack = msg.json<{ stream?: string; error?: unknown }>();
    return ack.error === undefined && typeof ack.stream === 'string';
  } catch {
    return false;
  }
}

/** Settles `work`, calling `expire` first if it has not settled by `ms`. */
async function withTimeout<T>(work: Promise<T>, ms: number, expire: () => void): Promise<T> {
  const timer = setTimeout(expire, ms);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}
