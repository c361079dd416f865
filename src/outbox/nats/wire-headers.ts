import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';

/** What nats.js accepts as a header name: printable ASCII without ':'. */
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
/** What it rejects in a value. */
const LINE_BREAK = /[\r\n]/;

/** The headers as nats.js sends them; `encode()` is what its publish reads. */
type Encodable = MsgHdrs & { encode(): Uint8Array };

/**
 * A message's headers kept as the text NATS sends (`NATS/1.0\r\nName: value\r\n…`) until
 * something reads or changes them. nats.js' own `headers()` validates and scans every key on
 * each `append()` and builds the text again on `encode()`: on the relay's hot path, four
 * headers per event cost more than the rest of the serializer. Anything but `encode()` turns
 * this into nats.js' map (built with the same calls, so with the same checks) and defers to it.
 * @internal
 */
export class WireHeaders implements MsgHdrs {
  private map: Encodable | undefined;

  private constructor(
    private readonly text: string,
    private readonly entries: readonly (readonly [string, string])[],
  ) {}

  /**
   * The headers `entries`, in order; their names must differ. Names or values nats.js would
   * refuse go through nats.js' `headers()`, so they fail as they always did.
   */
  static of(entries: readonly (readonly [string, string])[]): MsgHdrs {
    let text = 'NATS/1.0';
    for (const [name, value] of entries) {
      if (!HEADER_NAME.test(name) || LINE_BREAK.test(value)) return toMap(entries);
      text += `\r\n${name}: ${value.trim()}`;
    }
    return new WireHeaders(`${text}\r\n\r\n`, entries);
  }

  encode(): Uint8Array {
    return this.map ? this.map.encode() : Buffer.from(this.text);
  }

  get hasError(): boolean {
    return this.full().hasError;
  }
  get status(): string {
    return this.full().status;
  }
  get code(): number {
    return this.full().code;
  }
  get description(): string {
    return this.full().description;
  }
  get(...args: Parameters<MsgHdrs['get']>): string {
    return this.full().get(...args);
  }
  set(...args: Parameters<MsgHdrs['set']>): void {
    this.full().set(...args);
  }
  append(...args: Parameters<MsgHdrs['append']>): void {
    this.full().append(...args);
  }
  has(...args: Parameters<MsgHdrs['has']>): boolean {
    return this.full().has(...args);
  }
  keys(): string[] {
    return this.full().keys();
  }
  values(...args: Parameters<MsgHdrs['values']>): string[] {
    return this.full().values(...args);
  }
  delete(...args: Parameters<MsgHdrs['delete']>): void {
    this.full().delete(...args);
  }
  last(...args: Parameters<MsgHdrs['last']>): string {
    return this.full().last(...args);
  }
  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.full()[Symbol.iterator]();
  }

  private full(): Encodable {
    return (this.map ??= toMap(this.entries));
  }
}

function toMap(entries: readonly (readonly [string, string])[]): Encodable {
  const h = natsHeaders() as Encodable;
  for (const [name, value] of entries) h.append(name, value);
  return h;
}
