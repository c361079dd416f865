import { z } from 'zod';
import { defineSetting } from '../config/setting.js';

const amqpUrl = z
  .string()
  .trim()
  .regex(/^amqps?:\/\/\S+$/, 'must be an amqp:// or amqps:// URL')
  // A URL that passes the pattern but not the parser would fail later, in a log line that
  // echoes it with its password.
  .refine((url) => URL.canParse(url), 'must be a valid URL (host, port, credentials)');

/**
 * Every setting of `rabbitmqTransport()`, with its variable and default.
 * @publicApi
 */
export const RABBITMQ_TRANSPORT_SETTINGS = [
  defineSetting({
    path: 'urls',
    option: 'urls',
    env: 'RABBITMQ_URL',
    default: 'amqp://guest:guest@127.0.0.1:5672',
    description: 'RabbitMQ URL; comma-separated URLs of a cluster are tried in turn',
    secret: true,
    schema: z
      .union([z.array(z.string()), z.string().transform((v) => v.split(','))])
      .pipe(z.array(amqpUrl).min(1, 'needs at least one URL')),
  }),
  defineSetting({
    path: 'exchange',
    option: 'exchange',
    env: 'OUTBOX_EXCHANGE',
    default: 'outbox.events',
    description: 'RabbitMQ topic exchange; routing key = event type',
    schema: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'must be letters, digits, ., _, : or -'),
  }),
] as const;
