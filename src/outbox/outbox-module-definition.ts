import { ConfigurableModuleBuilder, type DynamicModule, type Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { OutboxModuleOptions } from './config/outbox-options.interface.js';
import { OUTBOX_DATA_SOURCE } from './outbox.constants.js';

/** Options that shape a module itself rather than its behaviour. @publicApi */
export interface OutboxModuleExtras {
  /** Register the module globally. @default false */
  isGlobal?: boolean;
  /** Name of the TypeORM DataSource holding the module's table. @default the default DataSource */
  dataSourceName?: string;
}

/**
 * Applies the extras to a module definition: `global`, and the chosen DataSource provided
 * under `token`.
 */
export function applyModuleExtras(token: symbol) {
  return (definition: DynamicModule, extras: OutboxModuleExtras): DynamicModule => {
    // The DataSource is picked here, where its name is known, so Nest orders the
    // initialisation: TypeORM's DataSource exists before anything of ours asks for it.
    const dataSource: Provider = {
      provide: token,
      useExisting: getDataSourceToken(extras.dataSourceName),
    };
    return {
      ...definition,
      global: extras.isGlobal,
      providers: [...(definition.providers ?? []), dataSource],
    };
  };
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: OUTBOX_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<OutboxModuleOptions>({ moduleName: 'Outbox' })
  .setClassMethodName('forRoot')
  .setExtras<OutboxModuleExtras>({ isGlobal: false }, applyModuleExtras(OUTBOX_DATA_SOURCE))
  .build();
