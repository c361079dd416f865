/**
 * A consumer server's message, as its instrument sees it. Both values are bounded: the
 * labels of a metric can be taken from them.
 * @publicApi
 */
export interface ConsumedMessage {
  /** The consumer server's transport, named as the relay's transports are. */
  readonly transport: 'nats-jetstream' | 'rabbitmq';
  /** The `@EventPattern` whose handler the message went to. */
  readonly pattern: string;
}

/**
 * A hook into the consumer servers (`ServerJetStream`, `AckingServerRMQ`), for metrics. The
 * servers are created outside Nest's dependency injection, so an instrument is handed to
 * them as the `instrument` option. Every method is optional and called synchronously on the
 * consumer's path, so keep them cheap; an exception thrown by one is logged and ignored, never
 * allowed to fail a message.
 * @publicApi
 */
export interface ConsumerInstrument {
  /**
   * The server is about to consume `pattern`, once per `@EventPattern`. A metrics integration
   * creates its series at 0 here, so the first dead letter is an increase a query can see.
   */
  consuming?(message: ConsumedMessage): void;
  /** The handler failed (or the dead-lettering did): the message goes back for a delivery. */
  redelivered?(message: ConsumedMessage): void;
  /** Out of deliveries, or never processable: the message is dead-lettered. */
  deadLettered?(message: ConsumedMessage): void;
}
