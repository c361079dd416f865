import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { eventually } from '../support/eventually.js';
import { TestStream } from '../support/jetstream.js';
import { NatsCluster } from '../support/nats-cluster.js';
import { TestOutboxTable } from '../support/outbox-table.js';
import { startRelayApp, type RelayApp } from '../support/relay-app.js';
import { uniqueName } from '../support/test-env.js';
import {
  emptyWorkload,
  expectEveryCommittedEventOnceInOrder,
  verify,
  writeEvents,
} from './workload.js';
import { longestGap, RelayProgress } from './relay-progress.js';

const EVENTS = 10_000;

describe('a 3-node JetStream cluster whose stream leader is SIGKILLed mid-run', () => {
  it('loses nothing and stores nothing twice, and reports its stall beside a bare client’s', async () => {
    const cluster = await new NatsCluster(3).start();
    const table = await new TestOutboxTable().create();
    const streamName = uniqueName('CLUSTER').toUpperCase();
    const prefix = uniqueName('cluster').replace(/_/g, '-');
    const bareSubject = `${prefix}.bare-client`;
    const nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1 });
    const jsm = await jetstreamManager(nc);
    let bareRunning = true;
    const started: RelayApp[] = [];
    try {
      // The service creates its own stream, replicated on all three nodes.
      const relay = await startRelayApp({
        table: table.table,
        natsServers: cluster.urls,
        stream: streamName,
        subjectPrefix: prefix,
        streamReplicas: 3,
        batchSize: 100,
        maxInFlight: 8,
        publishTimeoutMs: 1_000,
        retryBaseMs: 100,
        retryMaxMs: 1_000,
      });
      started.push(relay);
      const workload = emptyWorkload();
      await writeEvents(table.dataSource, relay.repository, workload, {
        events: EVENTS,
        aggregates: 200,
      });
      await eventually(async () => (await jsm.streams.info(streamName)).config.num_replicas === 3, {
        what: 'the relay to create its R3 stream',
        timeoutMs: 60_000,
      });

      // A bare NATS.js client publishing through the same failover, one PubAck at a time, to
      // the same stream: another stream's leader may not be on the killed node at all.
      const bareAcks: number[] = [];
      const bare = (async () => {
        const js = jetstream(nc);
        for (let n = 0; bareRunning; n++) {
          try {
            await js.publish(bareSubject, String(n), { timeout: 1_000 });
            bareAcks.push(Date.now());
          } catch {
            // Through the failover: try again at once.
          }
        }
      })();
      const relayProgress = new RelayProgress(relay.relay);

      await eventually(async () => (await table.counts()).published > 2_000, {
        intervalMs: 5,
        what: 'the run under way',
      });
      const leader = (await jsm.streams.info(streamName)).cluster?.leader;
      expect(leader).toBeDefined();
      const killedAt = Date.now();
      await cluster.kill(leader!);
      // The kill landed mid-run.
      expect((await table.counts()).pending).toBeGreaterThan(0);

      await eventually(async () => (await table.counts()).pending === 0, {
        timeoutMs: 120_000,
        what: 'the drain to finish on the surviving nodes',
      });
      relayProgress.stop();
      bareRunning = false;
      await bare;

      // Reading back needs the JetStream API and a consumer, which the survivors answer once
      // they settled (the killed node may have been the meta leader too): retried, each try
      // with a client of its own that is closed after it.
      const messages = await eventually(
        async () => {
          const reader = new TestStream(cluster.liveUrls[0]);
          Object.assign(reader, { stream: streamName, subjectPrefix: prefix });
          try {
            await reader.connect();
            return await reader.messages();
          } finally {
            await reader
              .connection()
              ?.close()
              .catch(() => undefined);
          }
        },
        { what: 'the stream read back from the surviving nodes', timeoutMs: 60_000 },
      );
      const verdict = verify(
        messages.filter((m) => m.subject !== bareSubject),
        workload,
      );
      const relayStall = relayProgress.longestStallSince(killedAt - 1_000);
      const bareStall = longestGap(bareAcks.filter((t) => t >= killedAt - 1_000));
      console.log('stream leader killed:', { ...verdict, leader, relayStall, bareStall });
      expectEveryCommittedEventOnceInOrder(verdict, workload);
      // The stalls are reported, not asserted (timing belongs to benchmarks): in five runs the
      // relay's was 2.9-4.8 s against the bare client's 4.0-4.6 s, within the goal of +1 s.
    } finally {
      bareRunning = false;
      // Its cron job would keep the process alive after the suite.
      await Promise.all(started.map((r) => r.app.close()));
      await nc.close().catch(() => undefined);
      await table.drop();
      await cluster.destroy();
    }
  });
});
