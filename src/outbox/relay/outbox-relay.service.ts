import { Inject, Injectable, Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import type { ResolvedOutboxOptions } from '../config/outbox-options.interface.js';
import { describeError, errorMessage } from '../errors/error-text.js';
import { OUTBOX_DATA_SOURCE, OUTBOX_OPTIONS } from '../outbox.constants.js';
import { OutboxInstrumentation } from '../instrumentation/outbox-instrumentation.js';
import type { ClaimedEvent } from '../message/claimed-event.js';
import { PreparedClaimLostError } from './prepared-claim-lost.error.js';
import { OwnBatches } from './own-batches.js';
import { OutboxRelayStore, type EventFailure } from './outbox-relay.store.js';
import { EventBreaksConnectionError } from '../errors/event-breaks-connection.error.js';
import { OutboxPublishError } from '../errors/outbox-publish.error.js';
import { withTimeout } from '../utils/with-timeout.js';
import { OutboxPublisher, type FailedOutcome, type PublishOutcome } from './outbox-publisher.js';
import { OUTBOX_TRANSPORT, type OutboxTransport } from '../transport/outbox-transport.js';
import type { OutboxRelayStatus } from './outbox-relay-status.js';
import { OutboxWakeupService } from '../wakeup/outbox-wakeup.service.js';
import {
  chargedFailures,
  mayHideConnectionBreaker,
  loopStep,
  nextStep,
  type BatchShape,
  outageOf,
  outagePauseMs,
} from './relay-decisions.js';

/** How often a relay that just ran dry looks for new rows, before it goes idle. */
const LINGER_POLL_MS = 2;
/** How often the relay asks whether the broker answers again after a lost connection. */
const BROKER_PROBE_INTERVAL_MS = 50;

interface BatchResult extends BatchShape {
  /** Failures charged to their events (attempt counted, retry scheduled or given up). */
  readonly eventFailures: readonly FailedOutcome[];
  /** Set when the broker, not the events, failed: nothing was charged to the events. */
  readonly outage: FailedOutcome | undefined;
  /** Of the charged failures, those given up (dead letters now); for the log line. */
  readonly deadLettered: number;
}

/**
 * The structured fields of the relay's log lines (Nest's `ConsoleLogger` prints them as JSON
 * keys in JSON mode, after the message in text mode): names, counts and kinds only, never an
 * error's text or anything from the connection settings, so they cannot carry a credential.
 */
type RelayLogFields = Record<string, string | number | Record<string, number>>;

/**
 * Moves events from the table to the broker: claim a batch, publish it with acknowledgement,
 * mark what was acknowledged and record what failed, commit; repeat while full batches come
 * back.
 * @publicApi
 */
@Injectable()
export class OutboxRelayService {
  private readonly logger = new Logger(OutboxRelayService.name);
  private inFlight: Promise<void> | undefined;
  private wokenDuringDrain = false;
  private stopping = false;
  private outageStreak = 0;
  private pausedUntil = 0;
  private resumeTimer: NodeJS.Timeout | undefined;
  /**
   * What this relay last wrote to the shared idle flag (true: writers must notify it), or
   * undefined when it does not know what the flag holds: at start, when it starts listening,
   * and at every cron tick. Another relay may have left the flag at 0 (stopped or killed right
   * after a batch), so an idle relay that does not know writes it again, or no writer would
   * ever wake it.
   */
  private advertised: boolean | undefined;
  /** A write of the idle flag that the next claim carries in its message; see `advertiseWithClaim`. */
  private queuedAdvert: boolean | undefined;
  /**
   * Set when a look was asked for during a drain that is no sign of events coming (a cron tick,
   * LISTEN taking effect): unlike a wake-up, it does not make the relay advertise itself busy.
   */
  private lookAgain = false;
  private readonly wakeupHandlers = {
    onWake: () => void this.drain(),
    onListening: () => {
      this.advertised = undefined;
      void this.look();
    },
  };
  private status: OutboxRelayStatus;

  constructor(
    @Inject(OUTBOX_OPTIONS) private readonly options: ResolvedOutboxOptions,
    @Inject(OUTBOX_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(OUTBOX_TRANSPORT) private readonly transport: OutboxTransport,
    private readonly store: OutboxRelayStore,
    private readonly publisher: OutboxPublisher,
    private readonly instrumentation: OutboxInstrumentation,
    private readonly wakeup: OutboxWakeupService,
  ) {
    this.status = {
      enabled: options.relayEnabled,
      running: false,
      since: new Date(),
      lastTickStartedAt: null,
      lastTickCompletedAt: null,
      lastProgressAt: null,
      ticksTotal: 0,
      publishedTotal: 0,
      duplicatesTotal: 0,
      failedPublishesTotal: 0,
      deadLetteredTotal: 0,
      pausedUntil: null,
      lastError: null,
    };
  }

  getStatus(): OutboxRelayStatus {
    return { ...this.status, running: this.inFlight !== undefined };
  }

  /**
   * Drains the backlog. Never runs twice at once in this process: a call during a drain
   * returns the running drain and makes it look once more before it ends, so an event
   * committed meanwhile is not left for the next tick. Never rejects; errors are logged
   * once per drain.
   */
  drain(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (this.inFlight) {
      this.wokenDuringDrain = true;
      // The loop may already be past its last look at the flag: if nothing consumed this
      // wake-up by the time it ends, drain again rather than lose it.
      return this.inFlight.then(() => (this.wokenDuringDrain ? this.drain() : undefined));
    }
    this.inFlight = this.drainLoop().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /**
   * The cron tick: a drain that also writes the idle flag again once it runs dry, in case
   * another relay left it at 0.
   */
  tick(): Promise<void> {
    this.advertised = undefined;
    return this.look();
  }

  /**
   * A drain that does not say events are coming: one asked for during a drain makes it look
   * once more before it ends, but not advertise itself busy. Writers would otherwise stop
   * notifying around every tick, and one whose transaction read "busy" and committed after the
   * relay's last look would wait for the next tick.
   */
  private look(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    if (!this.inFlight) return this.drain();
    this.lookAgain = true;
    return this.inFlight.then(() => (this.lookAgain ? this.look() : undefined));
  }

  /** No batch starts after this; the one in flight finishes. */
  requestStop(): void {
    this.stopping = true;
  }

  /**
   * Lets the batch in flight finish and be marked, then refuses further drains. Waits at most
   * `shutdownTimeoutMs`: giving up then costs duplicates (the batch rolls back and is
   * published again), never a lost event.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.resumeTimer);
    if (this.inFlight) {
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.options.shutdownTimeoutMs);
      });
      const finished = this.inFlight.then(() => false);
      if (await Promise.race([finished, gaveUp])) {
        this.logger.warn(
          `Batch in flight still running after ${this.options.shutdownTimeoutMs} ms; it will roll back and be published again`,
          { ...this.logFields(), shutdownTimeoutMs: this.options.shutdownTimeoutMs },
        );
      }
      clearTimeout(timer);
    }
    // A relay stopped after a busy batch leaves the flag at 0, and an idle replica would then
    // never be notified. 1 is always safe: at worst writers notify a relay that is busy.
    if (this.advertised === false && this.dataSource.isInitialized) {
      await this.wakeup.advertiseIdle(true).catch(() => undefined);
    }
  }

  private async drainLoop(): Promise<void> {
    this.status = { ...this.status, lastTickStartedAt: new Date() };
    let lastError: string | null = this.status.lastError;
    try {
      // During a broker outage the relay waits as a whole; the tick still counts as alive.
      if (Date.now() < this.pausedUntil) return;
      lastError = null;
      if (!this.dataSource.isInitialized) {
        // The application connects in the background (as the example does): wait quietly.
        lastError = 'waiting for the DataSource to be initialised';
        this.logger.warn(lastError, this.logFields());
        return;
      }
      this.wakeup.ensureListening(this.wakeupHandlers);
      let dryAt: number | undefined;
      for (;;) {
        this.wokenDuringDrain = false;
        this.lookAgain = false;
        const round = await this.drainRound();
        if (round.outage) {
          lastError = this.pauseForOutage(round.outage);
          break;
        }
        this.outageStreak = 0;
        this.status = { ...this.status, pausedUntil: null };
        lastError = round.warning ?? lastError;
        if (round.published > 0) dryAt = undefined;
        if (this.stopping) break;
        if (this.wokenDuringDrain) {
          // Events keep coming while it drains: busy, as with a backlog.
          this.advertiseWithClaim(false);
          continue;
        }
        if (this.wakeup.listening && this.advertised !== true) {
          // Steady traffic finds the relay here, polling, rather than idle: writers then
          // send no NOTIFY, whose commit-time lock would make them queue.
          dryAt ??= Date.now();
          if (await this.lingerForMore(dryAt + this.options.relayLingerMs)) continue;
          // Advertise first, then look once more: a writer that read the flag before it
          // changed sent no notification, and its event is found by this last claim. Marked
          // before the write, so that a tick asking for it again meanwhile is not overwritten.
          this.advertiseWithClaim(true);
          continue;
        }
        // A tick or LISTEN asked for a look after this round's claims: one more.
        if (this.lookAgain) continue;
        break;
      }
    } catch (error) {
      lastError = `Relay tick failed: ${errorMessage(error)}`;
      this.logger.error(lastError, {
        ...this.logFields(),
        errorName: error instanceof Error ? error.name : typeof error,
      });
    } finally {
      // A write no claim took (the relay is stopping): made on its own, as an idle relay that
      // left the flag at 0 would never be woken.
      const queued = this.queuedAdvert;
      this.queuedAdvert = undefined;
      if (queued !== undefined) {
        await this.wakeup.advertiseIdle(queued).catch(() => {
          this.advertised = undefined;
        });
      }
      this.status = {
        ...this.status,
        lastTickCompletedAt: new Date(),
        ticksTotal: this.status.ticksTotal + 1,
        lastError,
      };
    }
  }

  /**
   * Relays batches until none comes back full. While they do come back full, up to
   * `relayConcurrency` batches are in flight: one batch's claim and mark overlap another's
   * publishing, so neither the database nor the broker waits for the other. A wake-up for a
   * few events therefore costs one claim, not one per worker. The claims skip each other's
   * locked rows, and the order check holds back an aggregate's later events while an earlier
   * one is in the other batch.
   */
  private async drainRound(): Promise<{
    outage?: BatchResult;
    warning?: string;
    published: number;
  }> {
    const round: { outage?: BatchResult; warning?: string; published: number } = {
      published: 0,
    };
    const workers: Promise<void>[] = [];
    let active = 0;
    // This round's batches in flight, those that published something, and a signal settled
    // whenever one ends.
    let open = 0;
    let progressed = 0;
    let batchEnded = signal();
    // Set once a worker gave up on rows another relay holds back: no worker is added after it.
    let contended = false;
    let failed = false;
    const own = new OwnBatches();
    const worker = async () => {
      active++;
      let retried = false;
      let crowded = 0;
      try {
        while (!round.outage && !failed && !this.stopping) {
          const progressedBefore = progressed;
          let batch: BatchResult;
          open++;
          try {
            batch = await this.relayBatch(own);
            if (batch.published > 0) progressed++;
          } catch (error) {
            // The other loops stop after their batch: the drain ends, and says so, now.
            failed = true;
            throw error;
          } finally {
            open--;
            batchEnded.resolve();
            batchEnded = signal();
          }
          if (batch.outage) {
            round.outage ??= batch;
            return;
          }
          round.published += batch.published;
          if (batch.eventFailures.length > 0) this.warnFailures(batch, round);
          const next = loopStep(batch, this.options.batchSize, crowded);
          crowded = next.crowded;
          // Busy: writers may stop notifying, which would make their commits queue. So with a
          // backlog, and, with a linger, after any batch with rows: the relay polls next. Without
          // one, a batch that merely had rows does not make it busy: at a few events a second
          // that cost two flag writes and a claim for every event, on its way to the next one.
          // With a backlog the next claim carries it; a relay about to linger writes it now.
          if (next.step === 'next' || next.step === 'crowded') {
            this.advertiseWithClaim(false);
          } else if (batch.locked > 0 && this.options.relayLingerMs > 0) {
            await this.advertiseBusy();
          }
          if (next.step === 'end') return;
          if (next.step === 'after-own') {
            if (open > 0) await batchEnded.promise;
            continue;
          }
          if (next.step === 'after-progress') {
            while (!retried && open > 0 && progressed === progressedBefore) {
              await batchEnded.promise;
            }
            if (retried || progressed === progressedBefore) {
              contended = true;
              return;
            }
            retried = true;
            continue;
          }
          retried = false;
          if (next.step === 'crowded' && active > 1) {
            contended = true;
            return;
          }
          // A full batch means a backlog: put another batch in flight beside this one.
          if (active < this.options.relayConcurrency && !contended) workers.push(worker());
        }
      } finally {
        active--;
      }
    };
    workers.push(worker());
    // Every worker finishes its batch before an error surfaces: none is left running.
    let rejected: PromiseRejectedResult | undefined;
    for (let settled = 0; settled < workers.length;) {
      const results = await Promise.allSettled(workers.slice(settled));
      settled += results.length;
      rejected ??= results.find((r) => r.status === 'rejected');
    }
    if (rejected) throw rejected.reason;
    return round;
  }

  /** One line per batch with failures, never per event. */
  private warnFailures(batch: BatchResult, round: { warning?: string }): void {
    round.warning = `${batch.eventFailures.length} of ${batch.locked} events failed and will be retried or given up; first: ${batch.eventFailures[0].error.message}`;
    this.logger.warn(round.warning, {
      ...this.logFields(),
      locked: batch.locked,
      published: batch.published,
      failed: batch.eventFailures.length,
      deadLettered: batch.deadLettered,
      errorKind: batch.eventFailures[0].failure,
      failuresByKind: countKinds(batch.eventFailures),
    });
  }

  /** Tells writers they need not notify: the relay is draining and will look again anyway. */
  private async advertiseBusy(): Promise<void> {
    if (this.advertised === false) return;
    this.advertised = false;
    this.queuedAdvert = undefined;
    await this.wakeup.advertiseIdle(false);
  }

  /**
   * Tells writers whether to notify (true: this relay waits for a notification) in the
   * message of the claim that comes next, before the claim: no round trip of its own, on the
   * path of every wake-up. Only where a claim does come next; marked at once, so that a tick
   * asking for the flag again meanwhile (`advertised` undefined) is not overwritten. Nothing to
   * write when the flag already says so.
   */
  private advertiseWithClaim(idle: boolean): void {
    if (this.advertised === idle) return;
    this.advertised = idle;
    this.queuedAdvert = idle;
  }

  /**
   * Polls for new rows every few milliseconds until `until`: true as soon as there is one
   * (or a tick or notification came), false once the time is up.
   */
  private async lingerForMore(until: number): Promise<boolean> {
    while (Date.now() < until && !this.stopping) {
      await new Promise((resolve) => setTimeout(resolve, LINGER_POLL_MS));
      if (this.wokenDuringDrain) return true;
      if (await this.store.hasDue(this.dataSource.manager)) return true;
    }
    return false;
  }

  private pauseForOutage(batch: BatchResult): string {
    this.outageStreak++;
    const delay = outagePauseMs(this.outageStreak, this.options);
    this.pausedUntil = Date.now() + delay;
    this.status = { ...this.status, pausedUntil: new Date(this.pausedUntil) };
    // The next try comes when the pause ends, not at the next cron tick, up to a period later:
    // through a cluster's failover that period was most of the relay's lag behind a bare client.
    clearTimeout(this.resumeTimer);
    this.resumeTimer = setTimeout(() => {
      void (this.inFlight ?? Promise.resolve()).then(() => this.drain());
    }, delay);
    this.resumeTimer.unref();
    const message = `${batch.locked} events not acknowledged and left pending (broker unavailable, no attempt counted); pausing ${delay} ms; ${batch.outage!.error.message}`;
    this.logger.error(message, {
      ...this.logFields(),
      locked: batch.locked,
      errorKind: batch.outage!.failure,
      pauseMs: delay,
      outageStreak: this.outageStreak,
    });
    return message;
  }

  /** The fields every relay log line carries: which outbox, and its batch size. */
  private logFields(): RelayLogFields {
    const { schema, table, batchSize } = this.options;
    return { table: schema ? `${schema}.${table}` : table, batchSize };
  }

  private async relayBatch(own: OwnBatches): Promise<BatchResult> {
    const startedAt = performance.now();
    const runner = this.dataSource.createQueryRunner();
    // Opened and ended by the store's own statements rather than the runner's transaction
    // methods, which spend a round trip of their own: a wake-up for one event then takes one
    // round trip to PostgreSQL before its publish, not three. Open from the first statement
    // on: the claim may fail after its START TRANSACTION.
    let open = true;
    let release = () => {};
    const advert = this.queuedAdvert;
    this.queuedAdvert = undefined;
    const ownBatch = own.start();
    try {
      const batch = await this.store.openAndClaim(
        runner.manager,
        this.options.batchSize,
        this.lockHoldLimitMs(),
        advert === undefined ? '' : this.wakeup.advertiseIdleStatement(advert),
      );
      release = batch.release;
      const { locked, events } = batch;
      const heldElsewhere = own.claimed(ownBatch, events, batch.heldAggregates);
      const outcomes =
        events.length > 0
          ? await this.instrumentation.aroundPublish(events, () => this.publish(events))
          : [];
      const acks = outcomes.filter((o) => o.status === 'acknowledged');
      const acknowledged = acks.map((o) => o.id);
      const failed = outcomes.filter((o): o is FailedOutcome => o.status === 'failed');
      const outage = outageOf(failed, acknowledged.length);
      await this.store.markPublished(runner.manager, acknowledged);
      const charged = chargedFailures(failed, outage);
      const failures = this.failures(charged, events);
      await this.store.recordFailures(runner.manager, failures);
      // A crash before this commit leaves acknowledged rows pending: they are published again
      // and the broker drops the copy by event id. That is the at-least-once in the guarantee.
      await this.store.commit(runner.manager);
      open = false;
      const duplicates = acks.filter((a) => a.duplicate).length;
      this.count(acks.length, duplicates, failures);
      if (events.length > 0 && this.instrumentation.reportsBatches) {
        const byId = new Map(events.map((e) => [e.id, e]));
        this.instrumentation.batchRelayed({
          claimed: events,
          published: acknowledged.map((id) => byId.get(id)!),
          duplicates,
          failed: failures.map((f) => ({
            event: byId.get(f.id)!,
            error: f.error,
            gaveUp: f.giveUp,
          })),
          attempts: acks.length + failed.length,
          outage: outage !== undefined,
          durationMs: performance.now() - startedAt,
        });
      }
      return {
        locked,
        heldBack: locked - events.length,
        heldElsewhere,
        published: acknowledged.length,
        eventFailures: charged,
        outage,
        deadLettered: failures.filter((f) => f.giveUp).length,
      };
    } catch (error) {
      // Whether the flag was written before the failure is not known: write it again later.
      if (advert !== undefined) this.advertised = undefined;
      if (open) await this.store.rollback(runner.manager).catch(() => undefined);
      if (!(error instanceof PreparedClaimLostError)) throw error;
    } finally {
      own.end(ownBatch);
      release();
      await runner.release();
    }
    // The claim failed before anything was published, and the store now claims unprepared.
    return this.relayBatch(own);
  }

  /**
   * Publishes the batch, pipelined. When the connection was lost meanwhile and the broker
   * answers right after, an event of the batch may be what broke it (nats-server drops a
   * client that sends a subject longer than its control line): the events left are then
   * published one at a time, and one whose publish alone loses the connection again, while the
   * broker answers after it, can never be taken. Without this, such an event would pass for an
   * outage on every try and stop the whole outbox.
   */
  private async publish(events: readonly ClaimedEvent[]): Promise<PublishOutcome[]> {
    const outcomes = await this.publisher.publishAll(events);
    if (!mayHideConnectionBreaker(outcomes) || this.stopping) return outcomes;
    if (!(await this.brokerAnswers())) return outcomes;
    const left = new Set(outcomes.filter((o) => o.status !== 'acknowledged').map((o) => o.id));
    const again = new Map<string, PublishOutcome>();
    for (const outcome of await this.publisher.publishInTurn(
      events.filter((e) => left.has(e.id)),
    )) {
      // Only the last one sent can have broken the connection, and only if the broker answers.
      const breaker =
        outcome.status === 'failed' &&
        outcome.failure === 'connection-lost' &&
        (await this.brokerAnswers());
      again.set(
        outcome.id,
        breaker
          ? {
              ...outcome,
              error: new OutboxPublishError(
                outcome.error.eventId,
                new EventBreaksConnectionError(outcome.error.cause),
              ),
              failure: 'never',
            }
          : outcome,
      );
    }
    return outcomes.map((o) => again.get(o.id) ?? o);
  }

  /** Polls the broker's health until it answers, for at most one publish timeout. */
  private async brokerAnswers(): Promise<boolean> {
    const deadline = Date.now() + this.options.publishTimeoutMs;
    for (;;) {
      try {
        // Bounded by what is left: a probe that hangs (a JetStream API call while the
        // cluster elects a leader) must not hold the batch's locks beyond the deadline.
        await withTimeout(this.transport.checkHealth(), Math.max(deadline - Date.now(), 50));
        return true;
      } catch {
        if (Date.now() >= deadline || this.stopping) return false;
        await new Promise((resolve) => setTimeout(resolve, BROKER_PROBE_INTERVAL_MS));
      }
    }
  }

  /** Each charged failure's next step, decided here once: retry later, or give up now. */
  private failures(
    failed: readonly FailedOutcome[],
    events: readonly ClaimedEvent[],
  ): EventFailure[] {
    const attempts = new Map(events.map((e) => [e.id, e.attempts]));
    return failed.map((f) => ({
      id: f.id,
      error: describeError(f.error.cause),
      ...nextStep(f, attempts.get(f.id) ?? 0, this.options),
    }));
  }

  private count(published: number, duplicates: number, failures: readonly EventFailure[]) {
    this.status = {
      ...this.status,
      lastProgressAt: new Date(),
      publishedTotal: this.status.publishedTotal + published,
      duplicatesTotal: this.status.duplicatesTotal + duplicates,
      failedPublishesTotal: this.status.failedPublishesTotal + failures.length,
      deadLetteredTotal: this.status.deadLetteredTotal + failures.filter((f) => f.giveUp).length,
    };
  }

  /**
   * How long the claim transaction may live. A relay that freezes or loses its network while
   * holding the row locks is cut off by PostgreSQL after this, so other replicas can take the
   * rows; its late mark then fails and its batch is simply published again.
   */
  private lockHoldLimitMs(): number {
    // The batch, a probe of the broker, the suspect published alone and a second probe.
    return this.options.publishTimeoutMs * 4 + 10_000;
  }
}

/** A promise and what settles it (`Promise.withResolvers`, which Node 20 lacks). */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve = () => {};
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** How many failures of each kind (`retry`, `never`, ...) a batch had. */
function countKinds(failures: readonly FailedOutcome[]): Record<string, number> {
  const kinds: Record<string, number> = {};
  for (const f of failures) kinds[f.failure] = (kinds[f.failure] ?? 0) + 1;
  return kinds;
}
