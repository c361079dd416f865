import { Logger } from '@nestjs/common';
import { errorMessage } from '../errors/error-text.js';
import type { ConsumedMessage, ConsumerInstrument } from './consumer-instrument.js';

/**
 * How a consumer server calls its instrument: at no cost without one, and never letting one
 * that throws fail the message in hand (it would be neither acknowledged nor dead-lettered).
 * @internal
 */
export class ConsumerInstrumentation {
  private readonly logger = new Logger(ConsumerInstrumentation.name);

  constructor(
    private readonly transport: ConsumedMessage['transport'],
    private readonly instrument: ConsumerInstrument | undefined,
  ) {}

  consuming(pattern: string): void {
    this.call('consuming', pattern);
  }

  redelivered(pattern: string): void {
    this.call('redelivered', pattern);
  }

  deadLettered(pattern: string): void {
    this.call('deadLettered', pattern);
  }

  private call(hook: keyof ConsumerInstrument, pattern: string): void {
    if (!this.instrument?.[hook]) return;
    try {
      this.instrument[hook]({ transport: this.transport, pattern });
    } catch (error) {
      this.logger.warn(`Consumer instrument failed in ${hook}: ${errorMessage(error)}`);
    }
  }
}
