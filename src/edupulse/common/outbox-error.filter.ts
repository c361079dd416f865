import {
  type ArgumentsHost,
  Catch,
  type ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';
import {
  InvalidDomainEventError,
  OutboxTableMissingError,
  PayloadNotSerializableError,
  PayloadTooLargeError,
} from '../../outbox/index.js';

/** The library's typed write errors, as the HTTP status a client can act on. */
const STATUS_OF = new Map<new (...args: never[]) => Error, number>([
  [InvalidDomainEventError, HttpStatus.BAD_REQUEST],
  [PayloadNotSerializableError, HttpStatus.BAD_REQUEST],
  [PayloadTooLargeError, HttpStatus.PAYLOAD_TOO_LARGE],
  [OutboxTableMissingError, HttpStatus.SERVICE_UNAVAILABLE],
]);

/**
 * Answers every error the handlers throw. HTTP exceptions pass through; the outbox's typed
 * write errors become 4xx (or 503 while the table is missing); anything else is a 500 whose
 * log line names the error's class and message only. Nest's default would print the whole
 * error object, and a TypeORM `QueryFailedError` carries the SQL parameters: users' data.
 */
@Catch()
export class OutboxErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('EduPulse');

  catch(error: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    if (error instanceof HttpException) {
      response.status(error.getStatus()).json(error.getResponse());
      return;
    }
    const status = [...STATUS_OF].find(([type]) => error instanceof type)?.[1];
    if (status !== undefined) {
      const message = (error as Error).message;
      response.status(status).json({ statusCode: status, message });
      return;
    }
    const name = error instanceof Error ? error.name : typeof error;
    const code = (error as { driverError?: { code?: string } })?.driverError?.code;
    this.logger.error(`Request failed: ${name}${code ? ` (SQLSTATE ${code})` : ''}`);
    response.status(500).json({ statusCode: 500, message: 'Internal server error' });
  }
}
