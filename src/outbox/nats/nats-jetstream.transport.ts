import {
  JetStreamApiCodes,
  JetStreamApiError,
  jetstreamManager,
  type JetStreamManager,
} from '@nats-io/jetstream';
import {
  ClosedConnectionError,
  ConnectionError,
  InvalidArgumentError,
  InvalidSubjectError,
  type NatsConnection,
} from '@nats-io/transport-node';
import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { OutboxMessage } from '../message/outbox-message.js';
import type {
  MessagingDestination,
  OutboxTransport,
  PublishFailure,
  PublishResult,
} from '../transport/outbox-transport.js';
import type { OutboxTransportContext } from '../transport/outbox-transport-context.js';
import { OnceUntilFailure } from '../utils/once-until-failure.js';
import { ClientJetStream } from './client-jetstream.js';
import { NatsEnvelopeSerializer } from './nats-envelope.serializer.js';
import { withUrlCredentials } from './nats-url-credentials.js';
import type { PubAckOutcome } from './pub-ack-reader.js';
import type { ResolvedNatsTransportOptions } from './nats-transport.options.js';

const MESSAGE_SIZE_EXCEEDS_MAXIMUM = 10054;
/** "No stream answers this subject", "no PubAck in time" and "the relay stopped waiting". */
const BROKER_SIDE_ERRORS = new Set(['NoResponders', 'TimeoutError', 'AbortError']);
// Every acknowledgement is one of two answers: shared, so a batch allocates none.
const STORED: PublishResult = Object.freeze({ status: 'acknowledged', duplicate: false });
const DUPLICATE: PublishResult = Object.freeze({ status: 'acknowledged', duplicate: true });

/**
 * NATS JetStream: events go to `<subjectPrefix>.<event_type>`, captured by one stream whose
 * duplicate window drops re-publishes of the same event id. Publishes go through
 * `ClientJetStream`, a Nest `ClientNats` whose dispatch is a JetStream publish.
 */
export class NatsJetStreamTransport implements OutboxTransport, OnApplicationShutdown {
  readonly name = 'nats-jetstream';
  readonly client: ClientJetStream;
  private readonly logger = new Logger(NatsJetStreamTransport.name);
  // A failed preparation is forgotten, so the next batch tries again.
  private readonly preparation = new OnceUntilFailure(() => this.ensureStream());
  private connectionStatus = 'not connected yet';
  /** Connections lost so far: a publish that saw this change was in flight at the loss. */
  private losses = 0;
  private jsm: { connection: NatsConnection; manager: JetStreamManager } | undefined;

  private readonly publishTimeoutMs: number;

  constructor(
    private readonly options: ResolvedNatsTransportOptions,
    context: OutboxTransportContext,
  ) {
    this.publishTimeoutMs = context.publishTimeoutMs;
    this.client = new ClientJetStream(
      withUrlCredentials({
        servers: [...options.servers],
        name: 'nestjs-outbox-relay',
        // nats.js gives up after 10 attempts by default; a relay must outlive any outage.
        maxReconnectAttempts: -1,
        // nats.js captures a stack trace for every request to decorate a later error; the
        // relay's fast path makes none, but the JetStream API calls still would.
        noAsyncTraces: true,
        serializer: new NatsEnvelopeSerializer(context.messageFormat),
        publishTimeout: context.publishTimeoutMs,
      }),
    );
    this.client.status.subscribe((status) => {
      const next = String(status);
      if (next === 'disconnected' && this.connectionStatus !== next) this.losses++;
      this.connectionStatus = next;
    });
  }

  async publish(messages: readonly OutboxMessage[], signal: AbortSignal): Promise<PublishResult[]> {
    const lossesAtSend = this.losses;
    let outcomes: PubAckOutcome[];
    try {
      await this.preparation.run();
      const { subjectPrefix, stream } = this.options;
      const packets = messages.map((message) => ({
        pattern: `${subjectPrefix}.${message.envelope.event_type}`,
        data: message,
      }));
      outcomes = await this.client.publishEvents(packets, stream, signal);
    } catch (error) {
      // No connection to publish on, or the stream could not be prepared (a failed
      // preparation is tried again with the next batch).
      return messages.map(() => ({ status: 'failed', failure: 'unavailable', error }));
    }
    let streamMissing = false;
    const results = outcomes.map((outcome): PublishResult => {
      if (outcome === 'stored') return STORED;
      if (outcome === 'duplicate') return DUPLICATE;
      streamMissing ||= outcome.name === 'NoResponders';
      return { status: 'failed', failure: this.failureOf(outcome, lossesAtSend), error: outcome };
    });
    // No stream captures the subject: it may have been deleted, so make sure of it again
    // before the next batch. Not after a timeout or a lost connection: through a cluster's
    // failover the JetStream API answers later than the stream's new leader, and asking it
    // first would hold the relay back.
    if (streamMissing) this.preparation.reset();
    return results;
  }

  async checkHealth(): Promise<Record<string, unknown>> {
    // A writer-only replica never publishes, so its probe may be the first to connect (and
    // to create the stream). While disconnected this rejects at once with Nest's "Connection
    // lost" reason.
    await this.preparation.run();
    if (this.connectionStatus !== 'connected') {
      throw new Error(`NATS connection is ${this.connectionStatus}`);
    }
    const connection = this.client.unwrap<NatsConnection>();
    const rttMs = await connection.rtt();
    const info = await (await this.manager(connection)).streams.info(this.options.stream);
    return {
      transport: this.name,
      rttMs,
      stream: this.options.stream,
      streamMessages: info.state.messages,
    };
  }

  describeDestination(eventType: string | undefined): MessagingDestination {
    // The subject is the destination, one per event type: a batch of several has none.
    return {
      system: 'nats',
      destination: eventType && `${this.options.subjectPrefix}.${eventType}`,
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }

  private failureOf(error: unknown, lossesAtSend: number): PublishFailure {
    if (this.losses !== lossesAtSend) return 'connection-lost';
    if (
      error instanceof InvalidSubjectError ||
      (error instanceof InvalidArgumentError && /max_payload/.test(error.message)) ||
      // 10054: "message size exceeds maximum allowed" (the stream's max_msg_size)
      (error instanceof JetStreamApiError && error.code === MESSAGE_SIZE_EXCEEDS_MAXIMUM)
    ) {
      return 'never';
    }
    // Not the event's fault: the connection is down (Nest rejects with a bare string), no
    // stream answers the subject (no responders), or the PubAck did not come in time.
    if (
      typeof error === 'string' ||
      error instanceof ConnectionError ||
      error instanceof ClosedConnectionError ||
      // Matched by name: JetStreamNotEnabled is not exported, and rxjs' timeout() has its own.
      (error instanceof Error && BROKER_SIDE_ERRORS.has(error.name)) ||
      this.connectionStatus !== 'connected'
    ) {
      return 'unavailable';
    }
    return 'retry';
  }

  // One manager per connection: creating it costs a JetStream API round trip.
  private async manager(connection: NatsConnection): Promise<JetStreamManager> {
    if (this.jsm?.connection !== connection) {
      // Its API calls answer within a publish timeout, or fail: health probes must not hang.
      this.jsm = {
        connection,
        manager: await jetstreamManager(connection, { timeout: this.publishTimeoutMs }),
      };
    }
    return this.jsm.manager;
  }

  private async ensureStream(): Promise<void> {
    await this.client.connect();
    if (!this.options.createStream) return;
    const jsm = await this.manager(this.client.unwrap<NatsConnection>());
    const { stream, subjectPrefix, duplicateWindowMs, streamReplicas } = this.options;
    const subject = `${subjectPrefix}.>`;
    try {
      const info = await jsm.streams.info(stream);
      if (!info.config.subjects?.includes(subject)) {
        this.logger.warn(
          `Stream ${stream} exists but does not list subject "${subject}"; events may not be captured`,
        );
      }
    } catch (error) {
      const missing =
        error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound;
      if (!missing) throw error;
      await jsm.streams.add({
        name: stream,
        subjects: [subject],
        duplicate_window: duplicateWindowMs * 1_000_000,
        num_replicas: streamReplicas,
      });
      this.logger.log(
        `Created JetStream stream ${stream} for "${subject}" (${streamReplicas} replica${streamReplicas === 1 ? '' : 's'})`,
      );
    }
  }
}
