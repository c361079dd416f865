import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { InvalidInboxKeyError } from '../errors/invalid-inbox-key.error.js';
import { INBOX_DATA_SOURCE } from './inbox.constants.js';
import { InboxRepository } from './inbox.repository.js';

/** Longest consumer name or event id accepted as an inbox key. */
const MAX_KEY_LENGTH = 255;

/**
 * What `processOnce` did: ran the work (and returns its result), or found the event already
 * processed by this consumer and skipped it.
 * @publicApi
 */
export type ProcessOnceResult<T> =
  { readonly processed: true; readonly result: T } | { readonly processed: false };

/** @publicApi */
export interface ProcessOnceOptions {
  /**
   * Join this manager's transaction instead of opening one: the inbox row then commits or
   * rolls back with the rest of it. A manager outside any transaction gets one of its own.
   */
  readonly manager?: EntityManager;
}

/**
 * Idempotent consumers: records each event a consumer processes in the inbox table, in the
 * same transaction as the handler's own writes, so a redelivered event is skipped.
 * @publicApi
 */
@Injectable()
export class IdempotentConsumerService {
  constructor(
    @Inject(INBOX_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly inbox: InboxRepository,
  ) {}

  /**
   * Runs `work` once per `(consumer, eventId)`, in one transaction with the inbox row:
   *
   * - the row is inserted first; if this consumer already processed the event, `work` does
   *   not run and the promise resolves with `{ processed: false }`: acknowledge the message;
   * - otherwise `work` runs with the transaction's manager, and both commit together;
   * - if `work` throws, both roll back and the promise rejects: do not acknowledge, so the
   *   broker redelivers and the next delivery processes it;
   * - a concurrent delivery of the same event waits on the first one's uncommitted row, then
   *   skips it (first committed) or processes it (first rolled back).
   */
  async processOnce<T>(
    consumer: string,
    eventId: string,
    work: (manager: EntityManager) => Promise<T>,
    { manager }: ProcessOnceOptions = {},
  ): Promise<ProcessOnceResult<T>> {
    checkKey('consumer', consumer);
    checkKey('event id', eventId);
    const once = (tx: EntityManager) => this.runOnce(tx, consumer, eventId, work);
    if (manager?.queryRunner?.isTransactionActive) return once(manager);
    return (manager ?? this.dataSource.manager).transaction(once);
  }

  private async runOnce<T>(
    manager: EntityManager,
    consumer: string,
    eventId: string,
    work: (manager: EntityManager) => Promise<T>,
  ): Promise<ProcessOnceResult<T>> {
    if (!(await this.inbox.claim(manager, consumer, eventId))) return { processed: false };
    return { processed: true, result: await work(manager) };
  }
}

function checkKey(what: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_KEY_LENGTH) {
    throw new InvalidInboxKeyError(
      `the ${what} must be a string of 1 to ${MAX_KEY_LENGTH} characters (got ${JSON.stringify(value)?.slice(0, 80)})`,
    );
  }
}
