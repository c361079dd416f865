import type { ConnectionOptions } from '@nats-io/transport-node';

/**
 * nats.js does not log in with the `user:password@` (or `token@`) of a server URL: it wants
 * them as `user` and `pass` (or `token`), one set for the whole cluster. This moves them there
 * (options given explicitly win) and leaves the URLs bare, so the URLs the client keeps, and
 * may put in an error or a log line, hold no secret.
 * @internal
 */
export function withUrlCredentials<T extends ConnectionOptions>(options: T): T {
  if (options.servers === undefined) return options;
  const listed = typeof options.servers === 'string' ? [options.servers] : options.servers;
  const found: Pick<ConnectionOptions, 'user' | 'pass' | 'token'> = {};
  const servers = listed.map((server) => {
    const url = parseUrl(server);
    if (!url?.username) return server;
    if (found.user === undefined && found.token === undefined) {
      if (url.password) {
        found.user = decodeURIComponent(url.username);
        found.pass = decodeURIComponent(url.password);
      } else {
        found.token = decodeURIComponent(url.username);
      }
    }
    url.username = '';
    url.password = '';
    return url.href.replace(/\/$/, '');
  });
  const explicit = options.user !== undefined || options.token !== undefined;
  return { ...(explicit ? {} : found), ...options, servers };
}

function parseUrl(server: string): URL | undefined {
  try {
    return new URL(server);
  } catch {
    // A bare host:port, which cannot hold credentials.
    return undefined;
  }
}
