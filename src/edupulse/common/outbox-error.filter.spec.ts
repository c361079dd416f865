import { BadRequestException, Logger, type ArgumentsHost } from '@nestjs/common';
import { QueryFailedError } from 'typeorm';
import { PayloadTooLargeError } from '../../outbox/index.js';
import { OutboxErrorFilter } from './outbox-error.filter.js';

/** A plain stand-in for Express's response: it records the status and the body. */
function host() {
  const sent: { status?: number; body?: unknown } = {};
  const response = {
    status(code: number) {
      sent.status = code;
      return this;
    },
    json(body: unknown) {
      sent.body = body;
    },
  };
  const argumentsHost = {
    switchToHttp: () => ({ getResponse: () => response }),
  } as unknown as ArgumentsHost;
  return { argumentsHost, sent };
}

describe('OutboxErrorFilter', () => {
  it('answers the library’s typed write errors with a 4xx naming the problem', () => {
    const { argumentsHost, sent } = host();
    new OutboxErrorFilter().catch(new PayloadTooLargeError('a.b', 'id', 20, 10), argumentsHost);
    expect(sent.status).toBe(413);
    expect(JSON.stringify(sent.body)).toMatch(/over the limit of 10 bytes/);
  });

  it('passes HTTP exceptions through', () => {
    const { argumentsHost, sent } = host();
    new OutboxErrorFilter().catch(new BadRequestException('no'), argumentsHost);
    expect(sent.status).toBe(400);
  });

  it('logs a database failure by class and SQLSTATE, never with its SQL parameters', () => {
    const errors = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const failure = new QueryFailedError('INSERT INTO t VALUES ($1)', ['alice@example.com'], {
        code: '22021',
        message: 'invalid byte sequence',
      } as unknown as Error);
      const { argumentsHost, sent } = host();
      new OutboxErrorFilter().catch(failure, argumentsHost);
      expect(sent).toEqual({
        status: 500,
        body: { statusCode: 500, message: 'Internal server error' },
      });
      const logged = JSON.stringify(errors.mock.calls);
      expect(logged).toMatch(/QueryFailedError \(SQLSTATE 22021\)/);
      expect(logged).not.toContain('alice@example.com');
    } finally {
      errors.mockRestore();
    }
  });
});
