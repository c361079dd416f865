import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * Forwards a loopback port to a real server: a test "starts the database" on a port the app
 * already points at, without touching the shared server, or picks out on a shared broker the
 * connections that came through it (their client ports are `upstreamPorts()`).
 */
export class TcpProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly upstreams = new Set<Socket>();
  /** Connections accepted so far: a client that reconnects adds one. */
  accepted = 0;

  constructor(
    readonly port: number,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((client) => {
      this.accepted++;
      const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
      this.upstreams.add(upstream);
      upstream.on('close', () => this.upstreams.delete(upstream));
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  /** The local ports of the open connections to the server: the ports the server sees. */
  upstreamPorts(): number[] {
    return [...this.upstreams].flatMap((s) => (s.localPort === undefined ? [] : [s.localPort]));
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }
}
