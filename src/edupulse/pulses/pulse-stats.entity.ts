import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The read model `PulseStatsConsumer` keeps from `submission.received` events. */
@Entity('pulse_stats')
export class PulseStats {
  @PrimaryColumn('uuid', { name: 'pulse_id' })
  pulseId!: string;

  @Column('integer', { name: 'submission_count' })
  submissionCount!: number;
}
