import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('submission')
export class Submission {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('uuid', { name: 'pulse_id' })
  pulseId!: string;

  @Column('text', { name: 'student_id' })
  studentId!: string;

  @Column('text', { nullable: true })
  answer!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
