import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { OutboxMetricsModuleOptions } from './outbox-metrics-options.interface.js';

/** Options that shape the module itself rather than its behaviour. @publicApi */
export interface OutboxMetricsModuleExtras {
  /** Register the module globally, so any module can inject `OUTBOX_METRICS_REGISTRY`. @default false */
  isGlobal?: boolean;
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: OUTBOX_METRICS_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<OutboxMetricsModuleOptions>({ moduleName: 'OutboxMetrics' })
  .setClassMethodName('forRoot')
  .setExtras<OutboxMetricsModuleExtras>({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();
