// Tests and benchmarks name a handful of settings each, flat (`batchSize`, `stream`,
// `transport: 'rabbitmq'`), as the resolved options name them: shorter to read there than the
// grouped options. This turns them into what OutboxModule.forRoot() takes.
import type { OutboxModuleOptions } from '../src/outbox/index.js';
import { OUTBOX_SETTINGS } from '../src/outbox/config/outbox-settings.js';
import type { SettingsOutput } from '../src/outbox/config/setting.js';
import { natsTransport } from '../src/outbox/nats/index.js';
import { rabbitmqTransport } from '../src/outbox/rabbitmq/index.js';

export type FlatOutboxOptions = Partial<SettingsOutput<typeof OUTBOX_SETTINGS>> & {
  transport?: 'nats' | 'rabbitmq';
  natsServers?: string[];
  stream?: string;
  subjectPrefix?: string;
  createStream?: boolean;
  duplicateWindowMs?: number;
  streamReplicas?: number;
  rabbitmqUrl?: string;
  exchange?: string;
  entityManagerResolver?: OutboxModuleOptions['entityManagerResolver'];
};

/** `OutboxModule.forRoot()`'s grouped options, with the transport, from flat ones. */
export function groupOutboxOptions(flat: FlatOutboxOptions = {}): OutboxModuleOptions {
  const {
    transport,
    natsServers,
    stream,
    subjectPrefix,
    createStream,
    duplicateWindowMs,
    streamReplicas,
    rabbitmqUrl,
    exchange,
    entityManagerResolver,
    ...settings
  } = flat;
  const grouped: Record<string, unknown> = {};
  for (const setting of OUTBOX_SETTINGS) {
    const value = (settings as Record<string, unknown>)[setting.option];
    if (value === undefined) continue;
    const [group, key] = setting.path.split('.');
    if (key === undefined) grouped[group] = value;
    else ((grouped[group] ??= {}) as Record<string, unknown>)[key] = value;
  }
  return {
    ...grouped,
    entityManagerResolver,
    transport:
      transport === 'rabbitmq'
        ? rabbitmqTransport({ urls: rabbitmqUrl?.split(','), exchange })
        : natsTransport({
            servers: natsServers,
            stream,
            subjectPrefix,
            createStream,
            duplicateWindowMs,
            streamReplicas,
          }),
  };
}
