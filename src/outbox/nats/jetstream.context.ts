import type { JsMsg } from '@nats-io/jetstream';
import { NatsContext } from '@nestjs/microservices';

/**
 * The context `ServerJetStream` gives an `@EventPattern` handler: a `NatsContext` (subject,
 * headers) plus the JetStream message, for its stream sequence and delivery count.
 * Acknowledging is the server's job: it acks after the handler succeeds.
 * @publicApi
 */
export class JetStreamContext extends NatsContext {
  constructor(private readonly message: JsMsg) {
    super([message.subject, message.headers]);
  }

  /** The JetStream message: `seq` (stream sequence), `info.deliveryCount`, `redelivered`. */
  getMessage(): JsMsg {
    return this.message;
  }
}
