import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LearningPulse } from './learning-pulse.entity.js';
import { PulseStats } from './pulse-stats.entity.js';
import { PulseStatsConsumer } from './pulse-stats.consumer.js';
import { PulsesController } from './pulses.controller.js';
import { PulsesService } from './pulses.service.js';
import { Submission } from './submission.entity.js';

@Module({
  imports: [TypeOrmModule.forFeature([LearningPulse, Submission, PulseStats])],
  controllers: [PulsesController, PulseStatsConsumer],
  providers: [PulsesService],
})
export class PulsesModule {}
