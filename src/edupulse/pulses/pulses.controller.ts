import { Body, Controller, Get, HttpCode, Param, ParseUUIDPipe, Post } from '@nestjs/common';
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

  /** The pulse, with its submission count as its own events' consumer has counted it. */
  @Get(':id')
  get(@Param('id', new ParseUUIDPipe()) id: string) {
    return this.pulses.getPulse(id);
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
