import type { OutboxMessage } from '../message/outbox-message.js';
import type { OutboxTransportContext } from './outbox-transport-context.js';

/**
 * Why one message was not acknowledged. The relay decides from it whether the event is
 * charged an attempt (and, across a batch that acknowledged nothing and failed every publish
 * the same way, that the broker is at fault):
 * - `unavailable`: the broker or the connection is down, nothing takes the destination, or no
 *   acknowledgement came in time. Not the event's fault: no attempt is charged, and a batch
 *   that fails this way as a whole pauses the relay.
 * - `connection-lost`: the connection was lost while this message was in flight. Usually an
 *   outage; but when the broker answers right after, the relay publishes the batch again one
 *   message at a time, and a message that loses the connection on its own is given up.
 * - `retry`: the broker refused this message; a later attempt may succeed (charged).
 * - `never`: the broker can never take this message (too large, malformed destination): it
 *   becomes a dead letter at once.
 * @publicApi
 */
export type PublishFailure = 'unavailable' | 'connection-lost' | 'retry' | 'never';

/** The fate of one message of a batch, in the batch's order. @publicApi */
export type PublishResult =
  | {
      readonly status: 'acknowledged';
      /** The broker already had it (a re-publish after a crash) and dropped this copy. */
      readonly duplicate: boolean;
    }
  | { readonly status: 'failed'; readonly failure: PublishFailure; readonly error: unknown };

/**
 * The broker side of the relay. An adapter publishes through a Nest `ClientProxy` and maps the
 * broker's answers onto `PublishResult`; the core knows nothing else of the broker. Check a
 * new adapter with `describeTransportContract` from `nestjs-pg-outbox/testing`.
 * @publicApi
 */
export interface OutboxTransport {
  /** Human-readable name for logs and health output, never credentials. */
  readonly name: string;
  /**
   * Publishes every message, pipelined, and resolves with one result per message, in order;
   * never rejects. A message counts as acknowledged only when the broker confirmed it stored
   * it (a JetStream PubAck, an AMQP publisher confirm). Messages of one batch belong to
   * different aggregates, so their order among themselves does not matter. Once `signal` is
   * aborted, every result must settle promptly (unsettled ones as `unavailable`).
   */
  publish(messages: readonly OutboxMessage[], signal: AbortSignal): Promise<PublishResult[]>;
  /**
   * Probes the application's own connection (no new connection per probe): resolves with
   * details for health output, or rejects with the reason. Never includes credentials.
   */
  checkHealth(): Promise<Record<string, unknown>>;
  /**
   * Optional, for tracing: the messaging system, and where events of `eventType` go (for a
   * batch of several types, `undefined`), per OpenTelemetry's messaging conventions.
   */
  describeDestination?(eventType: string | undefined): MessagingDestination;
}

/** Where a batch goes, as OpenTelemetry's messaging conventions name it. @publicApi */
export interface MessagingDestination {
  /** `messaging.system`: `nats`, `rabbitmq`, ... */
  readonly system: string;
  /** `messaging.destination.name`, when the batch has one. */
  readonly destination?: string;
  /** Further attributes, such as the routing key. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/**
 * What `OutboxModule.forRoot({ transport })` takes: builds the transport once the module's
 * options are resolved. `natsTransport()` and `rabbitmqTransport()` return one.
 * @publicApi
 */
export type OutboxTransportFactory = (context: OutboxTransportContext) => OutboxTransport;

/** Injection token of the `OutboxTransport`. @publicApi */
export const OUTBOX_TRANSPORT = Symbol('OUTBOX:TRANSPORT');
