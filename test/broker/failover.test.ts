/**
 * The NATS mode end to end, as separate processes on 127.0.0.1: nats-server, 2 gateways and
 * 3 workers of the built CLI, 6 sensors replaying the bundled recording through both gateways.
 * One worker is killed with SIGKILL mid-stream: its streams resume on the others from their
 * checkpoints, and every sample gets exactly one decision, equal to the single-process run.
 */
import { expect } from 'chai';
import WebSocket from 'ws';
import type { Decision } from '../../streams/types';
import { type Cluster, essence, requireNatsServer, scrape, sendRecording, singleProcessDecisions, startCluster, storedDecisions, streamDecisions, waitUntil } from './cluster';

const LEASE_MS = 2000;
/** Sensors at 5× real time: the 28 s recording takes 5.6 s, long enough to kill a worker in its middle. */
const SPEED = 5;

function subscribe(gatewayUrl: string): { ws: WebSocket; decisions: Decision[] } {
  const ws = new WebSocket(`${gatewayUrl.replace(/^http/, 'ws')}/decisions`);
  const decisions: Decision[] = [];
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString()) as Decision & { type?: string };
    if (m.type === undefined || m.type === 'decision') decisions.push(m);
  });
  return { ws, decisions };
}

describe('NATS mode: 2 gateways, 3 workers, 6 sensors, one worker killed mid-stream', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  const sockets: WebSocket[] = [];

  after(async () => {
    for (const ws of sockets) ws.terminate();
    await cluster?.stop();
  });

  it('every sample has exactly one decision, equal to the single-process run; the dead worker\u2019s streams resume on others within the lease time', async function () {
    cluster = await startCluster(requireNatsServer(this), { workers: ['w1', 'w2', 'w3'], gateways: 2, leaseMs: LEASE_MS });
    const { workers, gateways, workerUrls } = cluster;
    for (const w of workers) expect(w.of('ready')[0].value.leaseMs).to.equal(LEASE_MS);
    const subs = gateways.map((g) => subscribe(g.url));
    sockets.push(...subs.map((s) => s.ws));
    await Promise.all(subs.map((s) => new Promise((resolve) => s.ws.once('open', resolve))));

    const streams = ['cam0', 'cam1', 'cam2', 'cam3', 'cam4', 'cam5'];
    const startedAt = Date.now();
    const sent = Promise.all(streams.map((id, k) => sendRecording(gateways[k % 2].url, id, SPEED)));
    const taken = (): number => new Set(workers.flatMap((w) => w.of('acquired').map((l) => l.value.streamId))).size;
    await waitUntil(() => taken() === streams.length, 15_000, 'every stream to have a worker');
    const held = workers.map((w) => w.of('acquired').length);
    const victim = held.indexOf(Math.max(...held));
    const victimId = ['w1', 'w2', 'w3'][victim];
    const victimStreams = workers[victim].of('acquired').map((l) => String(l.value.streamId));
    expect(victimStreams.length).to.be.greaterThan(0);
    // Mid-stream: the victim has stored a few decisions of each of its streams, many more are to come.
    const url = cluster.nats.url;
    await waitUntil(
      async () => {
        const mine = (await storedDecisions(url)).filter((d) => d.worker === victimId);
        return victimStreams.every((id) => mine.filter((d) => d.decision.streamId === id).length >= 3);
      },
      30_000,
      `${victimId} to decide a few samples of each of its streams`,
      300,
    );
    const killedAt = Date.now();
    process.stderr.write(`      killing ${victimId} (holds ${victimStreams.join(', ')}) ${killedAt - startedAt} ms after the sensors started\n`);
    workers[victim].signal('SIGKILL');
    await workers[victim].exited;

    const results = await sent;
    for (const r of results) expect(r.events).to.equal(378_593);
    const expected = await singleProcessDecisions('x');
    process.stderr.write(`      sensors done after ${Date.now() - startedAt} ms\n`);
    await waitUntil(async () => (await storedDecisions(url)).length >= streams.length * expected.length, 40_000, 'every decision to be stored', 500);
    const stored = await storedDecisions(url);
    process.stderr.write(`      ${stored.length} decisions stored after ${Date.now() - startedAt} ms\n`);

    // Exactly one decision per sample, each equal to the single-process run's.
    expect(new Set(stored.map((s) => s.decision.sampleId)).size, 'distinct sample ids').to.equal(stored.length);
    for (const id of streams) {
      const mine = streamDecisions(stored, id).map((s) => essence(s.decision));
      expect(mine, `stream ${id}`).to.deep.equal(await singleProcessDecisions(id));
    }

    // The dead worker's streams were taken over, each within the lease time after its lease expired.
    const survivors = workers.filter((_w, k) => k !== victim);
    for (const id of victimStreams) {
      const takeover = survivors.flatMap((w) => w.of('acquired')).find((l) => l.value.streamId === id && l.value.takeover === true && l.at > killedAt);
      if (!takeover) throw new Error(`${id} was not taken over`);
      // A lease can be taken only once it has expired: at most LEASE_MS after the kill (the last renewal came before it).
      const after = takeover.at - killedAt;
      expect(after, `${id} taken over (ms after the kill)`).to.be.below(LEASE_MS + 1500);
      expect(Number(takeover.value.sample), `${id} resumes from its checkpoint, not from the start`).to.be.at.least(3);
      process.stderr.write(`      ${id}: taken over ${after} ms after the kill (lease ${LEASE_MS} ms), resuming at sample #${String(takeover.value.sample)}\n`);
    }
    const takeovers = (await Promise.all(workerUrls.filter((_u, k) => k !== victim).map(scrape))).reduce((n, m) => n + (m.get('spikestream_worker_takeovers_total') ?? 0), 0);
    expect(takeovers).to.be.at.least(victimStreams.length);

    // Both gateways relayed every stored decision once to their subscribers.
    await waitUntil(() => subs.every((s) => s.decisions.length >= stored.length), 10_000, 'subscribers to get every decision');
    for (const s of subs) {
      expect(s.decisions.length).to.equal(stored.length);
      expect(new Set(s.decisions.map((d) => d.sampleId)).size).to.equal(stored.length);
    }
  });
});
