/**
 * A worker paused (SIGSTOP) past its lease loses its streams to another worker; when it is
 * resumed (SIGCONT) it publishes no stale decision: its lease renewals, checkpoint writes and
 * decision publishes are all compare-and-set and refused, and its own clock says the lease is
 * over. Every sample still gets exactly one decision, equal to the single-process run.
 */
import { expect } from 'chai';
import { type Cluster, essence, requireNatsServer, scrape, sendRecording, singleProcessDecisions, startCluster, storedDecisions, streamDecisions, waitUntil } from './cluster';

const LEASE_MS = 1500;
const SPEED = 4;

describe('NATS mode: a paused worker is fenced', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  after(() => cluster?.stop());

  it('after SIGSTOP past its lease and SIGCONT, it publishes no stale decision', async function () {
    cluster = await startCluster(requireNatsServer(this), { workers: ['f1', 'f2'], gateways: 1, leaseMs: LEASE_MS });
    const { nats, workers, workerUrls } = cluster;
    const gateway = cluster.gateways[0];

    const streams = ['cam0', 'cam1'];
    const sent = Promise.all(streams.map((id) => sendRecording(gateway.url, id, SPEED)));
    await waitUntil(() => workers.flatMap((w) => w.of('acquired')).length >= streams.length, 15_000, 'both streams to have a worker');
    const held = workers.map((w) => w.of('acquired').length);
    const paused = held[0] >= held[1] ? 0 : 1;
    const pausedId = ['f1', 'f2'][paused];
    const other = workers[1 - paused];
    const pausedStreams = workers[paused].of('acquired').map((l) => String(l.value.streamId));
    await waitUntil(async () => (await storedDecisions(nats.url)).filter((d) => d.worker === pausedId).length >= 2, 30_000, `${pausedId} to decide a few samples`, 300);

    workers[paused].signal('SIGSTOP');
    const stoppedAt = Date.now();
    await waitUntil(() => pausedStreams.every((id) => other.of('acquired').some((l) => l.value.streamId === id && l.at > stoppedAt)), 15_000, 'the other worker to take the paused worker\u2019s streams');
    // Stopped until the new owner has stored a decision of a taken stream: the paused worker's view is then stale.
    await waitUntil(
      async () => (await storedDecisions(nats.url)).some((s) => s.worker !== pausedId && pausedStreams.includes(s.decision.streamId) && s.storedAt > stoppedAt),
      30_000,
      'the new owner to store a decision of a taken stream',
      100,
    );
    workers[paused].signal('SIGCONT');
    const resumedAt = Date.now();

    await sent;
    const expected = await singleProcessDecisions('x');
    await waitUntil(async () => (await storedDecisions(nats.url)).length >= streams.length * expected.length, 60_000, 'every decision to be stored', 500);
    // The resumed worker publishes nothing more once it has learnt, for each stream, that it lost it.
    await waitUntil(() => pausedStreams.every((id) => workers[paused].of('lost').some((l) => l.value.streamId === id)), 15_000, 'the paused worker to learn it lost its streams');
    const stored = await storedDecisions(nats.url);
    expect(new Set(stored.map((s) => s.decision.sampleId)).size, 'distinct sample ids').to.equal(stored.length);
    for (const id of streams) expect(streamDecisions(stored, id).map((s) => essence(s.decision)), `stream ${id}`).to.deep.equal(await singleProcessDecisions(id));

    // Nothing stored from the paused worker after it was resumed (server and test share the clock).
    const stale = stored.filter((s) => s.worker === pausedId && s.storedAt >= resumedAt - 50);
    expect(stale.map((s) => s.decision.sampleId), 'decisions stored from the paused worker after SIGCONT').to.deep.equal([]);
    const lateFromPaused = stored.filter((s) => s.worker === pausedId && s.storedAt > stoppedAt + 50);
    expect(lateFromPaused.length, 'decisions stored from the paused worker while it was stopped').to.equal(0);

    // It learnt it lost its streams (renewal refused or lease over by its own clock) and stopped them.
    const m = await scrape(workerUrls[paused]);
    expect(m.get('spikestream_worker_leases_lost_total'), 'leases lost by the paused worker').to.be.at.least(pausedStreams.length);
    process.stderr.write(
      `      ${pausedId} stopped ${resumedAt - stoppedAt} ms (lease ${LEASE_MS} ms); after SIGCONT: ${m.get('spikestream_worker_leases_lost_total')} leases lost, ${m.get('spikestream_worker_fenced_total')} writes fenced by the broker, 0 decisions stored\n`,
    );
    const lost = workers[paused].of('lost').map((l) => String(l.value.streamId));
    expect(lost.sort()).to.deep.equal([...pausedStreams].sort());
  });
});
