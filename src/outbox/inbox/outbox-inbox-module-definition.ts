import { ConfigurableModuleBuilder } from '@nestjs/common';
import { applyModuleExtras, type OutboxModuleExtras } from '../outbox-module-definition.js';
import { INBOX_DATA_SOURCE } from './inbox.constants.js';
import type { InboxModuleOptions } from './inbox-options.interface.js';

export const {
  ConfigurableModuleClass: ConfigurableInboxModuleClass,
  MODULE_OPTIONS_TOKEN: INBOX_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<InboxModuleOptions>({ moduleName: 'OutboxInbox' })
  .setClassMethodName('forRoot')
  .setExtras<OutboxModuleExtras>({ isGlobal: false }, applyModuleExtras(INBOX_DATA_SOURCE))
  .build();
