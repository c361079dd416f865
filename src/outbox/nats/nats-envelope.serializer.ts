import { headers as natsHeaders, type MsgHdrs } from '@nats-io/transport-node';
import type { ReadPacket, Serializer } from '@nestjs/microservices';
import {
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  cloudEventsSourceOf,
  contextAttributes,
  percentEncodeHeaderValue,
  toCloudEvent,
  type MessageFormatOptions,
  type OutboxMessageFormat,
} from '../message/cloud-event.js';
import type { EventEnvelope } from '../message/event-envelope.js';
import type { OutboxMessage } from '../message/outbox-message.js';

const encoder = new TextEncoder();

/**
 * Writes the envelope itself as the message body (Nest's default would wrap it in
 * `{pattern, data}`), and the event id as `Nats-Msg-Id`, JetStream's de-duplication key.
 *
 * With a CloudEvents format it follows the NATS protocol binding: in binary mode every
 * attribute is a `ce-<name>` header (percent-encoded) and the payload is the body; in
 * structured mode the whole event is the body, typed `application/cloudevents+json`.
 * `Nats-Msg-Id` and the event's own headers are there in every mode.
 */
export class NatsEnvelopeSerializer implements Serializer<
  ReadPacket<OutboxMessage>,
  { data: Uint8Array; headers: MsgHdrs }
> {
  private readonly format: OutboxMessageFormat;
  private readonly source: string | undefined;

  constructor(options: MessageFormatOptions = {}) {
    this.format = options.messageFormat ?? 'envelope';
    this.source = cloudEventsSourceOf(options);
  }

  serialize(packet: ReadPacket<OutboxMessage>): { data: Uint8Array; headers: MsgHdrs } {
    const { envelope, headers } = packet.data;
    const payloadJson = packet.data.payloadJson ?? JSON.stringify(envelope.payload);
    const h = natsHeaders();
    for (const [key, value] of Object.entries(headers)) h.append(key, value);
    // nats.js' set() is a delete and an append, each scanning every key: append() alone when
    // the event's own headers do not hold the key (the usual case), on the relay's hot path.
    const put = (key: string, value: string) =>
      Object.hasOwn(headers, key) ? h.set(key, value) : h.append(key, value);
    put('Nats-Msg-Id', envelope.event_id);
    if (this.format === 'envelope') {
      put('Event-Type', envelope.event_type);
      put('Event-Version', envelope.event_version);
      put('Content-Type', 'application/json');
      return { data: encoder.encode(envelopeJson(envelope, payloadJson)), headers: h };
    }
    const event = toCloudEvent(packet.data, this.source!);
    if (this.format === 'cloudevents-structured') {
      put('Content-Type', CLOUDEVENTS_JSON_CONTENT_TYPE);
      return { data: encoder.encode(JSON.stringify(event)), headers: h };
    }
    for (const [name, value] of contextAttributes(event)) {
      put(`ce-${name}`, percentEncodeHeaderValue(value));
    }
    // The binding carries the media type as ce-datacontenttype; Content-Type is for everyone else.
    put('Content-Type', event.datacontenttype);
    return { data: encoder.encode(payloadJson), headers: h };
  }
}

/** The envelope as JSON, its payload spliced in as given (it is already JSON). */
function envelopeJson(envelope: EventEnvelope, payloadJson: string): string {
  const head = JSON.stringify({
    event_id: envelope.event_id,
    event_type: envelope.event_type,
    event_version: envelope.event_version,
    aggregate_type: envelope.aggregate_type,
    aggregate_id: envelope.aggregate_id,
    occurred_at: envelope.occurred_at,
  });
  return `${head.slice(0, -1)},"payload":${payloadJson}}`;
}
