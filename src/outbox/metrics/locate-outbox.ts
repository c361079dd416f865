import type { ModuleRef } from '@nestjs/core';
import type { DataSource } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { OutboxConfigError } from '../errors/outbox-config.error.js';
import { OutboxInstrumentation } from '../instrumentation/outbox-instrumentation.js';
import { OUTBOX_DATA_SOURCE, OUTBOX_OPTIONS } from '../outbox.constants.js';
import { OutboxBacklogReader } from '../table/outbox-backlog.reader.js';

/** The parts of the application's `OutboxModule` that the metrics read. */
export interface LocatedOutbox {
  readonly instrumentation: OutboxInstrumentation;
  readonly backlogReader: OutboxBacklogReader;
  readonly options: ResolvedOutboxOptions;
  readonly dataSource: DataSource;
}

/**
 * Finds the application's `OutboxModule`, wherever it is imported and whether or not it is
 * global: the metrics module is imported next to it, so Nest's injection cannot see its
 * providers unless it is global. Call it from `onModuleInit`, once every provider exists.
 * @internal
 */
export function locateOutbox(moduleRef: ModuleRef): LocatedOutbox {
  const one = <T>(token: Parameters<ModuleRef['get']>[0]): T => {
    let found: T[];
    try {
      found = moduleRef.get<unknown, T>(token, { strict: false, each: true });
    } catch {
      found = [];
    }
    if (found.length !== 1) {
      throw new OutboxConfigError([
        {
          source: 'OutboxMetricsModule',
          reason:
            found.length === 0
              ? 'needs OutboxModule.forRoot() in the same application'
              : `found ${found.length} OutboxModule instances; it instruments exactly one`,
        },
      ]);
    }
    return found[0];
  };
  return {
    instrumentation: one<OutboxInstrumentation>(OutboxInstrumentation),
    backlogReader: one<OutboxBacklogReader>(OutboxBacklogReader),
    options: one<ResolvedOutboxOptions>(OUTBOX_OPTIONS),
    dataSource: one<DataSource>(OUTBOX_DATA_SOURCE),
  };
}
