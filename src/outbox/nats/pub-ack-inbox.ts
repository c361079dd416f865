import {
  createInbox,
  NoRespondersError,
  TimeoutError,
  type Msg,
  type NatsConnection,
} from '@nats-io/transport-node';
import { PubAckReader, type PubAckOutcome } from './pub-ack-reader.js';

interface Batch {
  readonly outcomes: (PubAckOutcome | undefined)[];
  unsettled: number;
  readonly finish: () => void;
  deadline?: NodeJS.Timeout;
}

/**
 * Collects the PubAcks of one connection's publishes on a single wildcard subscription: the
 * publish of message `i` of batch `b` replies to `<inbox>.<b>.<i>`. nats.js' `request()`, which
 * a JetStream publish is, costs a promise, a timer, a subscription entry and an `Error` per
 * message, and the relay's profile showed them as its largest cost; here a batch costs one of
 * each, and the usual acknowledgement is read without being parsed.
 * @internal
 */
export class PubAckInbox {
  private readonly prefix: string;
  private readonly batches = new Map<number, Batch>();
  private nextBatch = 0;
  private readonly acks: PubAckReader;

  constructor(connection: NatsConnection, stream: string, inboxPrefix?: string) {
    this.prefix = `${createInbox(inboxPrefix)}.`;
    this.acks = new PubAckReader(stream);
    // nats.js re-subscribes after a reconnect; replies to publishes sent before it are lost
    // and settle at the batch's deadline.
    // An error here (a permissions violation on the inbox) carries no reply: whatever waits
    // settles at its deadline.
    connection.subscribe(`${this.prefix}*.*`, {
      callback: (error, msg) => {
        if (error === null) this.receive(msg);
      },
    });
  }

  /**
   * Calls `send(i, reply)` for each of `count` messages, then resolves with one outcome per
   * message, in order: JetStream's answer, what `send` threw, a `TimeoutError` for those
   * unanswered after `timeoutMs`, or an `AbortError` for those unanswered when `signal` aborts.
   */
  publish(
    count: number,
    send: (index: number, reply: string) => void,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<PubAckOutcome[]> {
    return new Promise((resolve) => {
      const id = this.nextBatch++;
      const outcomes = new Array<PubAckOutcome | undefined>(count);
      const giveUp = (error: Error) => {
        for (let i = 0; i < count; i++) outcomes[i] ??= error;
        finish();
      };
      const onAbort = () => giveUp(abortError());
      const finish = () => {
        clearTimeout(batch.deadline);
        signal.removeEventListener('abort', onAbort);
        this.batches.delete(id);
        resolve(outcomes as PubAckOutcome[]);
      };
      const batch: Batch = { outcomes, unsettled: count, finish };
      if (count === 0 || signal.aborted) return onAbort();
      this.batches.set(id, batch);
      const replyHead = `${this.prefix}${id}.`;
      for (let i = 0; i < count; i++) {
        try {
          send(i, replyHead + i);
        } catch (error) {
          this.settle(batch, i, error instanceof Error ? error : new Error(String(error)));
        }
      }
      if (batch.unsettled === 0) return;
      batch.deadline = setTimeout(() => giveUp(new TimeoutError()), timeoutMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private receive(msg: Msg): void {
    const subject = msg.subject;
    const dot = subject.lastIndexOf('.');
    const batch = this.batches.get(Number(subject.slice(this.prefix.length, dot)));
    // A late answer to a batch that gave up, or to another inbox's request: nothing waits.
    if (batch === undefined) return;
    this.settle(batch, Number(subject.slice(dot + 1)), this.outcomeOf(msg));
  }

  private settle(batch: Batch, index: number, outcome: PubAckOutcome): void {
    if (batch.outcomes[index] !== undefined) return;
    batch.outcomes[index] = outcome;
    if (--batch.unsettled === 0) batch.finish();
  }

  private outcomeOf(msg: Msg): PubAckOutcome {
    const data = msg.data;
    if (data.length === 0) {
      // A status message: 503 when no stream captures the subject.
      return msg.headers?.code === 503
        ? new NoRespondersError(msg.subject)
        : new Error(`JetStream answered with status ${msg.headers?.code ?? 'none'}`);
    }
    return this.acks.read(data);
  }
}

// Not a DOMException: under Jest it is not `instanceof` the test realm's Error.
function abortError(): Error {
  const error = new Error('publish aborted');
  error.name = 'AbortError';
  return error;
}
