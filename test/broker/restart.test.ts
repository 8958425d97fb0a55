/**
 * The NATS server restarts in the middle of a run (JetStream file store): gateways keep their
 * sensors (their messages wait, then go in order), workers reconnect and take their streams again
 * from the checkpoints, and once the server is back nothing is lost — every sample gets its one
 * decision, equal to the single-process run. The gateway's /health says when the broker is away.
 */
import { expect } from 'chai';
import { type Cluster, essence, requireNatsServer, scrape, sendRecording, singleProcessDecisions, sleep, startCluster, storedDecisions, streamDecisions, waitUntil } from './cluster';

const LEASE_MS = 2000;
const SPEED = 4;

interface Health {
  status: string;
  broker: { connected: boolean };
}

describe('NATS mode: the NATS server restarts mid-run', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  after(() => cluster?.stop());

  it('nothing is lost once it is back: every sample decided once, as in the single-process run', async function () {
    cluster = await startCluster(requireNatsServer(this), { workers: ['r1', 'r2'], gateways: 1, leaseMs: LEASE_MS });
    const { nats, workerUrls } = cluster;
    const gateway = cluster.gateways[0];
    const health = async (): Promise<Health> => (await (await fetch(`${gateway.url}/health`)).json()) as Health;
    expect((await health()).broker.connected).to.equal(true);

    const streams = ['cam0', 'cam1'];
    const sent = Promise.all(streams.map((id) => sendRecording(gateway.url, id, SPEED)));
    await waitUntil(async () => (await storedDecisions(nats.url)).length >= 4, 30_000, 'a few decisions before the restart', 300);

    await nats.stop();
    await waitUntil(async () => (await health()).broker.connected === false, 5000, '/health to report the broker away');
    expect((await health()).status).to.equal('degraded');
    await sleep(1500); // a fixed wait is the point: the outage outlasts the gateways' publish timeouts; the sensors keep sending
    await nats.restart();
    await waitUntil(async () => (await health()).broker.connected === true, 15_000, '/health to report the broker back');

    const results = await sent;
    for (const r of results) expect(r.events, 'every event sent').to.equal(378_593);
    const expected = await singleProcessDecisions('x');
    await waitUntil(async () => (await storedDecisions(nats.url)).length >= streams.length * expected.length, 60_000, 'every decision to be stored', 500);
    const stored = await storedDecisions(nats.url);
    expect(new Set(stored.map((s) => s.decision.sampleId)).size, 'distinct sample ids').to.equal(stored.length);
    for (const id of streams) expect(streamDecisions(stored, id).map((s) => essence(s.decision)), `stream ${id}`).to.deep.equal(await singleProcessDecisions(id));

    const m = await scrape(gateway.url);
    const wm = await Promise.all(workerUrls.map(scrape));
    const sum = (name: string): number => wm.reduce((n, x) => n + [...x].filter(([k]) => k.startsWith(name)).reduce((a, [, v]) => a + v, 0), 0);
    const retries = [...m].filter(([k]) => k.startsWith('spikestream_broker_publish_retries_total')).reduce((a, [, v]) => a + v, 0);
    process.stderr.write(`      gateway: ${retries} publish retries; workers: ${sum('spikestream_worker_leases_lost_total')} leases lost, ${sum('spikestream_worker_leases_acquired_total')} acquired, ${sum('spikestream_worker_publish_retries_total')} publish retries, ${sum('spikestream_worker_decisions_duplicate_total')} duplicates\n`);
    expect(m.get('spikestream_broker_disconnects_total'), 'the gateway saw the outage').to.be.at.least(1);
    expect(m.get('spikestream_broker_dropped_messages_total'), 'no message dropped').to.equal(0);
    // The gateway batches the messages that wait together into one stored message (issue 24): count ingest messages.
    expect(m.get('spikestream_broker_ingest_messages_stored_total'), 'every ingest message stored').to.be.at.least(results.reduce((n, r) => n + r.messages, 0));
    expect(m.get('spikestream_broker_published_total'), 'and the open and end markers of each stream').to.be.at.least(2 * streams.length + 1);
  });
});
