import { Body, Controller, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { CreatePulseBody, CreateSubmissionBody } from './pulse.schemas.js';
import { PulsesService } from './pulses.service.js';
import { ZodValidationPipe } from '../common/zod-validation.pipe.js';

@Controller('pulses')
export class PulsesController {
  constructor(private readonly pulses: PulsesService) {}

  @Post()
  @HttpCode(201)
  create(@Body(new ZodValidationPipe(CreatePulseBody)) body: CreatePulseBody) {
    return this.pulses.createPulse(body);
  }

  @Post(':id/submissions')
  @HttpCode(201)
  submit(
    @Param('id', new ParseUUIDPipe()) pulseId: string,
    @Body(new ZodValidationPipe(CreateSubmissionBody)) body: CreateSubmissionBody,
  ) {
    return this.pulses.submit(pulseId, body);
  }
}
