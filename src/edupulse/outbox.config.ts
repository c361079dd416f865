import { z } from 'zod';
import {
  OutboxConfigError,
  outboxOptionsFromEnv,
  type Environment,
  type OutboxConfigIssue,
  type OutboxModuleOptions,
} from '../outbox/index.js';
import { inboxOptionsFromEnv, type InboxModuleOptions } from '../outbox/inbox/index.js';
import {
  natsTransport,
  natsTransportOptionsFromEnv,
  type NatsTransportOptions,
} from '../outbox/nats/index.js';
import {
  rabbitmqTransport,
  rabbitmqTransportOptionsFromEnv,
  type RabbitMqTransportOptions,
} from '../outbox/rabbitmq/index.js';

/** The example's names for what the library leaves to each service. */
export const EDUPULSE_BROKER_DEFAULTS = {
  nats: { subjectPrefix: 'edupulse.domain.events', stream: 'EDUPULSE_DOMAIN_EVENTS' },
  rabbitmq: { exchange: 'edupulse.domain.events' },
} as const satisfies { nats: NatsTransportOptions; rabbitmq: RabbitMqTransportOptions };

/** `OUTBOX_TRANSPORT`: which adapter the example publishes and consumes through. */
export const BROKER_SETTING = {
  path: 'broker',
  option: 'broker',
  env: 'OUTBOX_TRANSPORT',
  default: 'nats',
  description: 'Broker of the example service: nats (JetStream) or rabbitmq',
  schema: z.enum(['nats', 'rabbitmq'], { error: 'must be nats or rabbitmq' }),
} as const;

/** Everything the example's outbox, inbox and consumers read from the environment. */
export type EdupulseOutboxConfig = {
  readonly outbox: OutboxModuleOptions;
  readonly inbox: InboxModuleOptions;
} & (
  | { readonly broker: 'nats'; readonly nats: NatsTransportOptions }
  | { readonly broker: 'rabbitmq'; readonly rabbitmq: RabbitMqTransportOptions }
);

/**
 * Reads the outbox's, the inbox's and the broker's variables at the application's edge, with
 * the example's own defaults. Throws one `OutboxConfigError` naming every bad variable.
 */
export function outboxConfigFromEnv(env: Environment): EdupulseOutboxConfig {
  const issues: OutboxConfigIssue[] = [];
  const read = <T>(parse: () => T): T | undefined => {
    try {
      return parse();
    } catch (error) {
      if (!(error instanceof OutboxConfigError)) throw error;
      issues.push(...error.issues);
      return undefined;
    }
  };
  const rawBroker = env[BROKER_SETTING.env] || BROKER_SETTING.default;
  const broker = BROKER_SETTING.schema.safeParse(rawBroker);
  if (!broker.success) {
    issues.push({
      source: BROKER_SETTING.env,
      reason: `${broker.error.issues[0].message} (got ${JSON.stringify(rawBroker)})`,
    });
  }
  const outbox = read(() => outboxOptionsFromEnv(env));
  const inbox = read(() => inboxOptionsFromEnv(env));
  const nats =
    broker.data === 'rabbitmq'
      ? undefined
      : read(() => natsTransportOptionsFromEnv(env, EDUPULSE_BROKER_DEFAULTS.nats));
  const rabbitmq =
    broker.data === 'rabbitmq'
      ? read(() => rabbitmqTransportOptionsFromEnv(env, EDUPULSE_BROKER_DEFAULTS.rabbitmq))
      : undefined;
  if (issues.length > 0) throw new OutboxConfigError(issues);
  return rabbitmq
    ? {
        broker: 'rabbitmq',
        rabbitmq,
        inbox: inbox!,
        outbox: { ...outbox!, transport: rabbitmqTransport(rabbitmq) },
      }
    : {
        broker: 'nats',
        nats: nats!,
        inbox: inbox!,
        outbox: { ...outbox!, transport: natsTransport(nats) },
      };
}
