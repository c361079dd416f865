import { Injectable, Logger } from '@nestjs/common';
import { errorMessage } from '../errors/error-text.js';
import type { DomainEvent } from '../events/domain-event.js';
import type { ClaimedEvent } from '../message/claimed-event.js';
import type { OutboxBatchReport, OutboxInstrument } from './outbox-instrument.js';

/**
 * The instruments registered by optional integrations (metrics, tracing). The core calls
 * them through this class only, so it depends on no metrics or tracing library, and a write
 * or a batch costs nothing extra while none is registered.
 * @publicApi
 */
@Injectable()
export class OutboxInstrumentation {
  private readonly logger = new Logger(OutboxInstrumentation.name);
  private readonly instruments: OutboxInstrument[] = [];

  /** Adds an instrument; integrations call it from their constructor or `onModuleInit`. */
  register(instrument: OutboxInstrument): void {
    this.instruments.push(instrument);
  }

  /** False while no instrument takes batch reports: the relay then builds none. */
  get reportsBatches(): boolean {
    return this.instruments.some((i) => i.batchRelayed !== undefined);
  }

  writeHeaders(): Readonly<Record<string, string>> | undefined {
    let merged: Readonly<Record<string, string>> | undefined;
    for (const instrument of this.instruments) {
      const headers = this.guard('writeHeaders', () => instrument.writeHeaders?.());
      if (headers) merged = merged ? { ...merged, ...headers } : headers;
    }
    return merged;
  }

  eventsRecorded(events: readonly DomainEvent[]): void {
    for (const instrument of this.instruments) {
      this.guard('eventsRecorded', () => instrument.eventsRecorded?.(events));
    }
  }

  /** Nests the instruments' wrappers; the publish itself must not be swallowed. */
  aroundPublish<T>(events: readonly ClaimedEvent[], publish: () => Promise<T>): Promise<T> {
    return this.instruments.reduceRight<() => Promise<T>>(
      (inner, instrument) =>
        instrument.aroundPublish ? () => instrument.aroundPublish!(events, inner) : inner,
      publish,
    )();
  }

  batchRelayed(report: OutboxBatchReport): void {
    for (const instrument of this.instruments) {
      this.guard('batchRelayed', () => instrument.batchRelayed?.(report));
    }
  }

  private guard<T>(hook: string, call: () => T): T | undefined {
    try {
      return call();
    } catch (error) {
      this.logger.warn(`Outbox instrument failed in ${hook}: ${errorMessage(error)}`);
      return undefined;
    }
  }
}
