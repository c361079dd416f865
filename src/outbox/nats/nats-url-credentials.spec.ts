import { withUrlCredentials } from './nats-url-credentials';

describe('withUrlCredentials', () => {
  it('moves user and password out of the URLs into user and pass', () => {
    expect(
      withUrlCredentials({
        servers: ['nats://app:s%40cret@n1:4222', 'nats://app:s%40cret@n2:4222'],
      }),
    ).toEqual({ servers: ['nats://n1:4222', 'nats://n2:4222'], user: 'app', pass: 's@cret' });
  });

  it('takes a user with no password as a token', () => {
    expect(withUrlCredentials({ servers: 'nats://t0ken@n1:4222' })).toEqual({
      servers: ['nats://n1:4222'],
      token: 't0ken',
    });
  });

  it('lets credentials given as options win, and still strips the URLs', () => {
    expect(
      withUrlCredentials({ servers: ['nats://a:b@n1:4222'], user: 'explicit', pass: 'p' }),
    ).toEqual({ servers: ['nats://n1:4222'], user: 'explicit', pass: 'p' });
  });

  it('leaves URLs without credentials, and bare host:port, as they are', () => {
    expect(withUrlCredentials({ servers: ['nats://n1:4222', 'n2:4222'] })).toEqual({
      servers: ['nats://n1:4222', 'n2:4222'],
    });
    expect(withUrlCredentials({ name: 'x' })).toEqual({ name: 'x' });
  });
});
