import { z } from 'zod';
import { defineSetting } from '../config/setting.js';
import { flag, integer } from '../config/setting-schemas.js';

// A NATS subject token may not contain whitespace, '.', '*' or '>'.
const subjectToken = '[A-Za-z0-9_-]+';
const natsUrl = z
  .string()
  .trim()
  .regex(/^(nats|tls|ws|wss):\/\/[^\s/]+$/, 'must be a nats:// (or tls://, ws://, wss://) URL')
  .refine((url) => URL.canParse(url), 'must be a valid URL (host and port)');

/**
 * Every setting of `natsTransport()`, with its variable and default.
 * @publicApi
 */
export const NATS_TRANSPORT_SETTINGS = [
  defineSetting({
    path: 'servers',
    option: 'servers',
    env: 'NATS_SERVERS',
    default: 'nats://127.0.0.1:4222',
    description: 'Comma-separated NATS server URLs',
    secret: true,
    schema: z
      .union([z.array(z.string()), z.string().transform((v) => v.split(','))])
      .pipe(z.array(natsUrl).min(1, 'needs at least one server')),
  }),
  defineSetting({
    path: 'subjectPrefix',
    option: 'subjectPrefix',
    env: 'OUTBOX_SUBJECT_PREFIX',
    default: 'outbox.events',
    description: 'Events are published on <prefix>.<event_type> (200 characters at most)',
    schema: z
      .string()
      .max(200, 'must be 200 characters at most')
      .regex(
        new RegExp(`^${subjectToken}(\\.${subjectToken})*$`),
        'must be dot-separated NATS subject tokens without wildcards or spaces',
      ),
  }),
  defineSetting({
    path: 'stream',
    option: 'stream',
    env: 'OUTBOX_STREAM',
    default: 'OUTBOX_EVENTS',
    description: 'JetStream stream capturing <prefix>.>',
    schema: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'must be letters, digits, _ or -'),
  }),
  defineSetting({
    path: 'createStream',
    option: 'createStream',
    env: 'OUTBOX_STREAM_CREATE',
    default: 'true',
    description: 'Create the stream at start-up when it is missing',
    schema: flag,
  }),
  defineSetting({
    path: 'streamReplicas',
    option: 'streamReplicas',
    env: 'OUTBOX_STREAM_REPLICAS',
    default: '1',
    description:
      'Replicas of a stream created here (1-5); 3 on a JetStream cluster, so it survives a node',
    schema: integer(1, 5),
  }),
  defineSetting({
    path: 'duplicateWindowMs',
    option: 'duplicateWindowMs',
    env: 'OUTBOX_STREAM_DUPLICATE_WINDOW_MS',
    default: '120000',
    description: 'De-duplication window (by Nats-Msg-Id) of a stream created here',
    schema: integer(1_000, 7 * 24 * 3_600_000),
  }),
] as const;
