import { randomUUID } from 'node:crypto';
import { Injectable, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { OutboxRepository } from '../../outbox/index.js';
import { DatabaseConnector } from '../database/database-connector.js';
import { LearningPulse } from './learning-pulse.entity.js';
import { LearningPulseCreated, SubmissionReceived } from './pulse.events.js';
import { PulseStats } from './pulse-stats.entity.js';
import type { CreatePulseBody, CreateSubmissionBody } from './pulse.schemas.js';
import { Submission } from './submission.entity.js';

export interface PulseView {
  readonly id: string;
  readonly title: string;
  readonly summary: string | null;
  readonly authorId: string;
  readonly createdAt: Date;
  readonly submissionCount: number;
}

/**
 * The pattern in two methods: the business row and its event are written by the same
 * EntityManager inside one transaction, so both commit or neither does.
 */
@Injectable()
export class PulsesService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxRepository,
    private readonly database: DatabaseConnector,
  ) {}

  createPulse(body: CreatePulseBody): Promise<{ id: string }> {
    this.assertConnected();
    return this.dataSource.transaction(async (manager) => {
      const pulse = manager.create(LearningPulse, {
        id: randomUUID(),
        title: body.title,
        summary: body.summary ?? null,
        authorId: body.authorId,
      });
      await manager.insert(LearningPulse, pulse);
      await this.outbox.add(
        manager,
        LearningPulseCreated.create(pulse.id, {
          pulse_id: pulse.id,
          title: pulse.title,
          summary: pulse.summary,
          author_id: pulse.authorId,
        }),
      );
      return { id: pulse.id };
    });
  }

  submit(pulseId: string, body: CreateSubmissionBody): Promise<{ id: string }> {
    this.assertConnected();
    return this.dataSource.transaction(async (manager) => {
      // FOR SHARE keeps the pulse from being deleted before this transaction commits.
      const pulse = await manager.findOne(LearningPulse, {
        where: { id: pulseId },
        lock: { mode: 'pessimistic_read' },
      });
      if (!pulse) throw new NotFoundException(`Learning pulse ${pulseId} not found`);
      const submission = manager.create(Submission, {
        id: randomUUID(),
        pulseId,
        studentId: body.studentId,
        answer: body.answer ?? null,
      });
      await manager.insert(Submission, submission);
      await this.outbox.add(
        manager,
        SubmissionReceived.create(submission.id, {
          submission_id: submission.id,
          pulse_id: pulseId,
          student_id: submission.studentId,
          answer: submission.answer,
        }),
      );
      return { id: submission.id };
    });
  }

  /**
   * The pulse and its submission count. The count is kept by `PulseStatsConsumer` from the
   * `submission.received` events, so it trails the submissions by the relay's and the
   * broker's delay (eventual consistency).
   */
  async getPulse(id: string): Promise<PulseView> {
    this.assertConnected();
    const pulse = await this.dataSource.manager.findOneBy(LearningPulse, { id });
    if (!pulse) throw new NotFoundException(`Learning pulse ${id} not found`);
    const stats = await this.dataSource.manager.findOneBy(PulseStats, { pulseId: id });
    return {
      id: pulse.id,
      title: pulse.title,
      summary: pulse.summary,
      authorId: pulse.authorId,
      createdAt: pulse.createdAt,
      submissionCount: stats?.submissionCount ?? 0,
    };
  }

  private assertConnected(): void {
    // Connected is not enough: the tables exist only once the migrations have run.
    if (!this.database.connected) {
      throw new ServiceUnavailableException('The database is not connected and migrated yet');
    }
  }
}
