// Renders docs/configuration.md and .env.example from the settings' declarations, so each
// setting is described once. `npm run docs:config` writes them; a test fails when they drift.
import { APP_SETTINGS } from '../src/edupulse/app.config.js';
import { BROKER_SETTING, EDUPULSE_BROKER_DEFAULTS } from '../src/edupulse/outbox.config.js';
import { OUTBOX_SETTINGS } from '../src/outbox/config/outbox-settings.js';
import { describePath, type Setting } from '../src/outbox/config/setting.js';
import { INBOX_SETTINGS } from '../src/outbox/inbox/inbox-settings.js';
import { NATS_TRANSPORT_SETTINGS } from '../src/outbox/nats/nats-transport.settings.js';
import { RABBITMQ_TRANSPORT_SETTINGS } from '../src/outbox/rabbitmq/rabbitmq-transport.settings.js';

interface Section {
  readonly title: string;
  /** Where these options go in code, and the function that reads their variables. */
  readonly code: string;
  readonly fromEnv: string;
  readonly settings: readonly Setting[];
  /** The example service's own defaults, where they differ from the library's. */
  readonly exampleDefaults?: Readonly<Record<string, string>>;
}

const SECTIONS: readonly Section[] = [
  {
    title: 'Outbox (`OutboxModule.forRoot`)',
    code: 'OutboxModule.forRoot',
    fromEnv: 'outboxOptionsFromEnv(process.env)',
    settings: OUTBOX_SETTINGS,
  },
  {
    title: 'NATS JetStream (`natsTransport`, from `nestjs-pg-outbox/nats`)',
    code: 'natsTransport',
    fromEnv: 'natsTransportFromEnv(process.env)',
    settings: NATS_TRANSPORT_SETTINGS,
    exampleDefaults: EDUPULSE_BROKER_DEFAULTS.nats,
  },
  {
    title: 'RabbitMQ (`rabbitmqTransport`, from `nestjs-pg-outbox/rabbitmq`)',
    code: 'rabbitmqTransport',
    fromEnv: 'rabbitmqTransportFromEnv(process.env)',
    settings: RABBITMQ_TRANSPORT_SETTINGS,
    exampleDefaults: EDUPULSE_BROKER_DEFAULTS.rabbitmq,
  },
  {
    title: 'Inbox (`OutboxInboxModule.forRoot`, from `nestjs-pg-outbox/inbox`)',
    code: 'OutboxInboxModule.forRoot',
    fromEnv: 'inboxOptionsFromEnv(process.env)',
    settings: INBOX_SETTINGS,
  },
  {
    title: 'The example service, EduPulse (not part of the library)',
    code: 'AppModule',
    fromEnv: 'loadAppConfig(process.env)',
    settings: [...APP_SETTINGS, BROKER_SETTING],
  },
];

const cell = (text: string) => text.replace(/\|/g, '\\|');
const code = (text: string) => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);

/** docs/configuration.md. */
export function renderConfigurationReference(): string {
  const lines = [
    '# Configuration reference',
    '',
    '<!-- Generated from the settings declarations by `npm run docs:config`; do not edit. -->',
    '',
    'Every setting can be given in code or, at the edge of your application, as an environment',
    "variable read by the entry point's `...FromEnv(process.env)` function. The library itself",
    'never reads `process.env`. A bad value stops start-up with one `OutboxConfigError` that',
    'names every bad option or variable (never echoing a value that may hold credentials).',
    '',
    '```ts',
    'OutboxModule.forRoot({',
    '  ...outboxOptionsFromEnv(process.env),',
    '  transport: natsTransportFromEnv(process.env),',
    '});',
    '```',
  ];
  for (const section of SECTIONS) {
    lines.push('', `## ${section.title}`, '', `From the environment: \`${section.fromEnv}\`.`, '');
    lines.push('| option | variable | default | meaning |', '| --- | --- | --- | --- |');
    for (const s of section.settings) {
      const example = section.exampleDefaults?.[s.path];
      const fallback = s.default === undefined ? 'unset' : code(s.default);
      const shown = example ? `${fallback} (EduPulse: ${code(example)})` : fallback;
      lines.push(
        `| ${code(describePath(s.path))} | ${code(s.env)} | ${cell(shown)} | ${cell(s.description)} |`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** .env.example: every variable the example service reads, with the example's defaults. */
export function renderEnvExample(): string {
  const lines = [
    '# Every variable the example service (EduPulse) reads, with its default there.',
    '# Generated from the settings declarations by `npm run docs:config`; do not edit.',
    '# Reference: docs/configuration.md',
  ];
  for (const section of SECTIONS) {
    lines.push('', `# --- ${section.title.replace(/`/g, '')} ---`);
    for (const s of section.settings) {
      const value = section.exampleDefaults?.[s.path] ?? s.default;
      lines.push(`# ${s.description}`, value === undefined ? `# ${s.env}=` : `${s.env}=${value}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
