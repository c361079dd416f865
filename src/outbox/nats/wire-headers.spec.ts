import { headers as natsHeaders, InvalidArgumentError } from '@nats-io/transport-node';
import { WireHeaders } from './wire-headers.js';

type Encodable = { encode(): Uint8Array };
const text = (h: unknown) => new TextDecoder().decode((h as Encodable).encode());

function natsMap(entries: [string, string][]) {
  const h = natsHeaders();
  for (const [name, value] of entries) h.append(name, value);
  return h;
}

describe('WireHeaders', () => {
  const entries: [string, string][] = [
    ['traceparent', ' 00-abc-def-01 '],
    ['Nats-Msg-Id', '6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f'],
    ['Content-Type', 'application/json'],
  ];

  it('sends the same bytes as nats.js headers() with the same entries', () => {
    expect(text(WireHeaders.of(entries))).toBe(text(natsMap(entries)));
    expect(text(WireHeaders.of(entries))).toBe(
      'NATS/1.0\r\ntraceparent: 00-abc-def-01\r\nNats-Msg-Id: 6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f\r\nContent-Type: application/json\r\n\r\n',
    );
  });

  it('answers reads like the nats.js map, and sends what a change made', () => {
    const h = WireHeaders.of(entries);
    expect(h.get('Nats-Msg-Id')).toBe('6f1c2f8e-6a0e-4d8e-9a7e-2f0b8c1d2e3f');
    expect(h.has('traceparent')).toBe(true);
    expect(h.keys()).toEqual(['traceparent', 'Nats-Msg-Id', 'Content-Type']);
    expect([...h]).toEqual([...natsMap(entries)]);
    expect(h.hasError).toBe(false);

    h.set('Content-Type', 'text/plain');
    expect(text(h)).toContain('Content-Type: text/plain\r\n');
    expect(text(h)).not.toContain('application/json');
  });

  it.each([
    ['a value with a line break', ['Event-Type', 'a\r\nInjected: yes'] as [string, string]],
    ['a name with a colon', ['Bad:Name', 'v'] as [string, string]],
    ['a name with a space', ['Bad Name', 'v'] as [string, string]],
  ])('refuses %s as nats.js does', (_, entry) => {
    expect(() => natsMap([entry])).toThrow(InvalidArgumentError);
    expect(() => WireHeaders.of([entry])).toThrow(InvalidArgumentError);
  });
});
