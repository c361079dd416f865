import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload, type BaseRpcContext } from '@nestjs/microservices';
import type { EventEnvelope } from '../../outbox/index.js';
import { eventIdOf, IdempotentConsumerService } from '../../outbox/inbox/index.js';
import { SubmissionReceived, type SubmissionReceivedPayload } from './pulse.events.js';

/** The inbox key of this consumer: each event is counted once by it. */
export const PULSE_STATS_CONSUMER = 'pulse-stats';

/**
 * The service consumes its own `submission.received` events (from JetStream or RabbitMQ, see
 * `connectEventConsumers`) to keep a submission count per pulse. The count and the inbox row
 * commit together, so a redelivered event is acknowledged without counting it twice, and a
 * failed update is redelivered.
 */
@Controller()
export class PulseStatsConsumer {
  constructor(private readonly inbox: IdempotentConsumerService) {}

  // <string> picks the untyped overload: Nest 12's typed one rejects a typed @Ctx() parameter.
  @EventPattern<string>(SubmissionReceived.type)
  async onSubmissionReceived(
    @Payload() event: EventEnvelope<SubmissionReceivedPayload>,
    @Ctx() context: BaseRpcContext,
  ): Promise<void> {
    await this.inbox.processOnce(PULSE_STATS_CONSUMER, eventIdOf(event, context), (manager) =>
      manager.query(
        `INSERT INTO pulse_stats (pulse_id, submission_count) VALUES ($1, 1)
         ON CONFLICT (pulse_id) DO UPDATE SET submission_count = pulse_stats.submission_count + 1`,
        [event.payload.pulse_id],
      ),
    );
  }
}
