import { JetStreamApiError } from '@nats-io/jetstream';
import { PubAckReader } from './pub-ack-reader';

const reader = new PubAckReader('ORDERS');
const read = (text: string) => reader.read(new TextEncoder().encode(text));

describe('PubAckReader', () => {
  afterEach(() => jest.restoreAllMocks());

  it.each([
    // As nats-server writes them: by hand, with spaces.
    ['{"stream":"ORDERS", "seq":1}', 'stored'],
    ['{"stream":"ORDERS", "seq":18446744073709551615}', 'stored'],
    ['{"stream":"ORDERS", "seq":7,"duplicate": true}', 'duplicate'],
    [' {"stream":"ORDERS" , "seq" : 7 , "duplicate" : true }', 'duplicate'],
    // As a JSON encoder would.
    ['{"stream":"ORDERS","seq":7}', 'stored'],
    ['{"stream":"ORDERS","seq":7,"duplicate":true}', 'duplicate'],
  ])('reads the usual %s as %s byte by byte, without JSON.parse', (text, outcome) => {
    const parse = jest.spyOn(JSON, 'parse');
    expect(read(text)).toBe(outcome);
    expect(parse).not.toHaveBeenCalled();
  });

  it.each([
    // Shapes the byte match leaves to JSON.parse.
    ['{"stream":"ORDERS", "domain":"hub", "seq":7}', 'stored'],
    ['{"stream":"ORDERS", "seq":7,"duplicate": false}', 'stored'],
    ['{"seq":7, "duplicate":true, "stream":"ORDERS"}', 'duplicate'],
    ['{"stream":"ORDERS", "seq":7}\n', 'stored'],
    ['{"stream":"ORDERS", "seq":7,"duplicate": true, "x":1}', 'duplicate'],
  ])('reads %s as %s', (text, outcome) => {
    expect(read(text)).toBe(outcome);
  });

  it('counts only the configured stream, not one whose name starts the same', () => {
    for (const stream of ['ORDERS2', 'OTHER']) {
      const outcome = read(`{"stream":"${stream}", "seq":1}`);
      expect(outcome).toBeInstanceOf(Error);
      expect((outcome as Error).message).toBe(`stored by stream ${stream}, not ORDERS`);
    }
  });

  it('turns an API error into a JetStreamApiError with its code', () => {
    const outcome = read(
      '{"error":{"code":400,"err_code":10054,"description":"message size exceeds maximum allowed"},"stream":"ORDERS","seq":0}',
    );
    expect(outcome).toBeInstanceOf(JetStreamApiError);
    expect((outcome as JetStreamApiError).code).toBe(10054);
  });

  it.each([
    ['{"stream":"ORDERS", "seq":}', 'not a PubAck'],
    ['{"seq":3}', 'no PubAck received'],
    ['{"stream":"", "seq":3}', 'no PubAck received'],
    ['not json', 'not a PubAck'],
    ['{"stream":"ORDERS", "seq":7,"duplicate": truex}', 'not a PubAck'],
    ['{"stream":"ORDERS", "seq":1', 'not a PubAck'],
  ])('calls %s a failure (%s)', (text, reason) => {
    const outcome = read(text);
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toContain(reason);
  });
});
