import { eventually } from './eventually.js';
import type { ReceivedMessage, TestExchange } from './rabbitmq.js';

/** Takes messages from `queue` until `count` have come, in the order the queue held them. */
export async function takeMessages(
  exchange: TestExchange,
  queue: string,
  count: number,
  { timeoutMs = 30_000, perPoll = Infinity } = {},
): Promise<ReceivedMessage[]> {
  const received: ReceivedMessage[] = [];
  await eventually(
    async () => {
      received.push(...(await exchange.take(queue, Math.min(perPoll, count - received.length))));
      return received.length >= count;
    },
    { timeoutMs, what: `${count} messages on ${queue}` },
  );
  return received;
}

/** The `payload.n` of each message, per aggregate id, in the order the messages came. */
export function sequencesByAggregate(messages: readonly ReceivedMessage[]): Map<string, number[]> {
  const sequences = new Map<string, number[]>();
  for (const { body } of messages) {
    const aggregate = String(body.aggregate_id);
    const n = (body.payload as { n: number }).n;
    sequences.set(aggregate, [...(sequences.get(aggregate) ?? []), n]);
  }
  return sequences;
}
