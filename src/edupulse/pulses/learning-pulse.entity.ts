import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity('learning_pulse')
export class LearningPulse {
  @PrimaryColumn('uuid')
  id!: string;

  @Column('text')
  title!: string;

  @Column('text', { nullable: true })
  summary!: string | null;

  @Column('text', { name: 'author_id' })
  authorId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
