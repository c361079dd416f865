import { JetStreamApiError } from '@nats-io/jetstream';

/**
 * JetStream's answer to one publish: stored by the expected stream, already stored (a
 * duplicate the stream dropped), or why not.
 * @publicApi
 */
export type PubAckOutcome = 'stored' | 'duplicate' | Error;

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const SPACE = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const [COMMA, SEQ, COLON, CLOSE, DUPLICATE, TRUE] = [
  ',',
  '"seq"',
  ':',
  '}',
  '"duplicate"',
  'true',
].map((token) => encoder.encode(token));

/**
 * Reads a JetStream PubAck for one stream. The usual answers are matched byte for byte, so a
 * batch of acknowledgements builds no objects to throw away.
 * @internal
 */
export class PubAckReader {
  /** `{"stream":"<stream>"`, the start of every PubAck of the expected stream. */
  private readonly ackHead: Uint8Array;

  constructor(private readonly stream: string) {
    this.ackHead = encoder.encode(`{"stream":${JSON.stringify(stream)}`);
  }

  read(data: Uint8Array): PubAckOutcome {
    return this.usualAck(data) ?? this.parsedAck(data);
  }

  /**
   * `{"stream":"<stream>", "seq":<digits>}`, or the same ending `,"duplicate": true}`, read
   * byte by byte (the server writes them by hand, with spaces); anything else (an error, a
   * domain, another stream) is parsed in full.
   */
  private usualAck(data: Uint8Array): PubAckOutcome | undefined {
    let at = token(data, 0, this.ackHead);
    at = token(data, token(data, token(data, at, COMMA), SEQ), COLON);
    if (at < 0) return undefined;
    while (at < data.length && data[at] === SPACE) at++;
    const digits = at;
    while (at < data.length && data[at] >= DIGIT_0 && data[at] <= DIGIT_9) at++;
    if (at === digits) return undefined;
    if (token(data, at, CLOSE) === data.length) return 'stored';
    at = token(data, token(data, token(data, token(data, at, COMMA), DUPLICATE), COLON), TRUE);
    return token(data, at, CLOSE) === data.length ? 'duplicate' : undefined;
  }

  private parsedAck(data: Uint8Array): PubAckOutcome {
    let ack: { stream?: unknown; duplicate?: unknown; error?: unknown };
    try {
      ack = JSON.parse(decoder.decode(data)) as typeof ack;
    } catch {
      return new Error('JetStream answered with something that is not a PubAck');
    }
    if (ack.error)
      return new JetStreamApiError(ack.error as ConstructorParameters<typeof JetStreamApiError>[0]);
    // Only the configured stream counts: another stream may capture the subject too.
    if (ack.stream !== this.stream) {
      return new Error(
        typeof ack.stream === 'string' && ack.stream !== ''
          ? `stored by stream ${ack.stream}, not ${this.stream}`
          : 'no PubAck received',
      );
    }
    return ack.duplicate === true ? 'duplicate' : 'stored';
  }
}

/**
 * Where `expected` ends when it comes next in `data` from `at`, after any spaces; -1 when it
 * does not (or `at` is already -1).
 */
function token(data: Uint8Array, at: number, expected: Uint8Array): number {
  if (at < 0) return -1;
  while (at < data.length && data[at] === SPACE) at++;
  if (data.length - at < expected.length) return -1;
  for (let i = 0; i < expected.length; i++) if (data[at + i] !== expected[i]) return -1;
  return at + expected.length;
}
