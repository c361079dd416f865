import type { ReadPacket, Serializer } from '@nestjs/microservices';
import type { EventEnvelope } from '../message/event-envelope.js';
import {
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  cloudEventsSourceOf,
  contextAttributes,
  toCloudEvent,
  type CloudEvent,
  type MessageFormatOptions,
  type OutboxMessageFormat,
} from '../message/cloud-event.js';
import type { OutboxMessage } from '../message/outbox-message.js';

/**
 * What `ClientRMQ` expects back: the body to JSON-encode, plus its publish options. A body that
 * may not be an object (a binary-mode payload can be any JSON value) is wrapped: ClientRMQ
 * deletes `options` and `JSON.stringify` then writes what `toJSON` returns.
 */
type RmqPacket = (EventEnvelope | CloudEvent | { toJSON(): unknown }) & {
  options: Record<string, unknown>;
};

/**
 * The envelope itself as the body (ClientRMQ JSON-encodes what is returned, minus `options`),
 * and the AMQP properties consumers rely on: `messageId` = event id for de-duplication,
 * persistent delivery, JSON content type, the event type as `type` and header.
 *
 * With a CloudEvents format it follows the AMQP protocol binding: in binary mode every
 * attribute but `datacontenttype` is a `cloudEvents_<name>` header (the binding's preferred
 * separator, which JMS selectors accept too), `datacontenttype` is the `contentType` property
 * and the payload is the body; in structured mode the whole event is the body, typed
 * `application/cloudevents+json`. `messageId`, `type`, `timestamp`, persistence and the event's
 * own headers are there in every mode.
 */
export class RmqEnvelopeSerializer implements Serializer<ReadPacket<OutboxMessage>, RmqPacket> {
  private readonly format: OutboxMessageFormat;
  private readonly source: string | undefined;

  constructor(options: MessageFormatOptions = {}) {
    this.format = options.messageFormat ?? 'envelope';
    this.source = cloudEventsSourceOf(options);
  }

  serialize(packet: ReadPacket<OutboxMessage>): RmqPacket {
    const { envelope, headers } = packet.data;
    if (this.format === 'envelope') {
      return {
        ...envelope,
        options: {
          messageId: envelope.event_id,
          type: envelope.event_type,
          contentType: 'application/json',
          persistent: true,
          timestamp: Math.floor(Date.parse(envelope.occurred_at) / 1000),
          headers: {
            ...headers,
            'Event-Type': envelope.event_type,
            'Event-Version': envelope.event_version,
          },
        },
      };
    }
    const properties = {
      messageId: envelope.event_id,
      type: envelope.event_type,
      persistent: true,
      timestamp: Math.floor(Date.parse(envelope.occurred_at) / 1000),
    };
    const event = toCloudEvent(packet.data, this.source!);
    if (this.format === 'cloudevents-structured') {
      return {
        ...event,
        options: { ...properties, contentType: CLOUDEVENTS_JSON_CONTENT_TYPE, headers },
      };
    }
    const ceHeaders: Record<string, string> = { ...headers };
    for (const [name, value] of contextAttributes(event)) {
      if (name !== 'datacontenttype') ceHeaders[`cloudEvents_${name}`] = value;
    }
    return {
      toJSON: () => envelope.payload,
      options: { ...properties, contentType: event.datacontenttype, headers: ceHeaders },
    };
  }
}
