import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * The API takes JSON bodies only: a form-encoded or text post (which a cross-site HTML form
 * can send without a preflight) is refused with 415 before any handler runs. Express's
 * `X-Powered-By` banner goes too.
 */
@Injectable()
export class JsonOnlyMiddleware implements NestMiddleware {
  use(request: Request, response: Response, next: NextFunction): void {
    response.removeHeader('X-Powered-By');
    const hasBody = ['POST', 'PUT', 'PATCH'].includes(request.method);
    if (hasBody && !request.is('application/json')) {
      response.status(415).json({
        statusCode: 415,
        message: 'Content-Type must be application/json',
      });
      return;
    }
    next();
  }
}
