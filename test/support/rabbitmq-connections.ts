import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A client connection as the broker lists it. */
export interface BrokerConnection {
  /** The broker's id for it (an Erlang pid), which `closeBrokerConnection` takes. */
  readonly pid: string;
  /** The client's port: which socket on this machine the connection is. */
  readonly peerPort: number;
  /** The name the client gave it (`clientProperties.connection_name`), if any. */
  readonly connectionName: string | undefined;
}

/**
 * The shared broker's client connections, from `rabbitmqctl list_connections`. Run without
 * blocking, so that a relay in this process keeps publishing meanwhile. The table output, not
 * JSON: only its pids are the form `close_connection` accepts.
 */
export async function brokerConnections(): Promise<BrokerConnection[]> {
  const { stdout } = await run('rabbitmqctl', [
    '-q',
    'list_connections',
    '--no-table-headers',
    'pid',
    'peer_port',
    'client_properties',
  ]);
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [pid, peerPort, properties = ''] = line.split('\t');
      return {
        pid,
        peerPort: Number(peerPort),
        connectionName: /\{"connection_name","([^"]*)"\}/.exec(properties)?.[1],
      };
    });
}

/**
 * Makes the broker close one connection (a `connection.close` carrying `reason`), and no
 * other: other people's tests share this broker.
 */
export async function closeBrokerConnection(pid: string, reason: string): Promise<void> {
  await run('rabbitmqctl', ['-q', 'close_connection', pid, reason]);
}
