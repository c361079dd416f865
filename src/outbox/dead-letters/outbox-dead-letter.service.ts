import { Inject, Injectable } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { OUTBOX_DATA_SOURCE } from '../outbox.constants.js';
import {
  OutboxDeadLetterRepository,
  type FailedEvent,
  type FailedEventFilter,
} from './outbox-dead-letter.repository.js';

/**
 * Dead letters for operators: list the events the relay gave up on, requeue them with a fresh
 * attempt budget once the cause is fixed, or purge them. Also behind `npm run outbox`.
 * @publicApi
 */
@Injectable()
export class OutboxDeadLetterService {
  constructor(
    @Inject(OUTBOX_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly admin: OutboxDeadLetterRepository,
  ) {}

  list(options?: { eventType?: string; limit?: number }): Promise<FailedEvent[]> {
    return this.admin.listFailed(this.dataSource.manager, options);
  }

  requeue(filter: FailedEventFilter): Promise<number> {
    return this.admin.requeue(this.dataSource.manager, filter);
  }

  purge(filter: FailedEventFilter): Promise<number> {
    return this.admin.purgeFailed(this.dataSource.manager, filter);
  }
}
