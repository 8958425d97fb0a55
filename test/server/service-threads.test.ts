/**
 * The service on worker threads: the same decisions, in the same order per stream, as on one
 * thread; counters summed over the workers; streams spread over the workers; stop() ends them.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as path from 'path';
import WebSocket from 'ws';
import type { EventBatch } from '../../src/events/event-batch';
import { readEventFile } from 'aedat-parser-ts/node';
import { streamToServer } from '../../src/client/sensor-client';
import { startService } from '../../src/server/service';
import { ShardPool, sumDeep } from '../../src/server/threads/shard-pool';
import { lastValueFrom, toArray } from 'rxjs';
import { SnnScheduler } from '../../src/snn/scheduler';
import { createRunner } from '../../src/snn/step-runner';
import { classifyStream } from '../../streams/operators/classify-stream';
import { sourceFromBatches } from '../../streams/core/event-source';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import type { Decision, Frame } from '../../streams/types';
import { repoRoot } from '../helpers/paths';

const RECORDING = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');
const GEOMETRY = { width: 128, height: 128 };

/** What must not differ between runs (wall-clock latency may). */
function essence(d: Decision): Omit<Decision, 'latencyMs'> {
  const { latencyMs: _latency, ...rest } = d;
  return rest;
}

async function decisionsPerStream(threads: number, batches: readonly EventBatch[], streams: number): Promise<{ perStream: Map<string, Decision[]>; decided: number; stepsRun: number; maxBatch: number }> {
  const model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
  const service = await startService({ model, port: 0, threads, slots: 8, runner: 'typed', sampleWallLimitMs: 60_000 });
  const base = service.address.url.replace(/^http/, 'ws');
  const perStream = new Map<string, Decision[]>();
  const sub = service.decisions.subscribe((d) => {
    const list = perStream.get(d.streamId) ?? [];
    list.push(d);
    perStream.set(d.streamId, list);
  });
  try {
    // Streams of different lengths, so that they end at different times and share batches unevenly.
    await Promise.all(Array.from({ length: streams }, (_, i) => streamToServer(`${base}/ingest/cam${i}`, batches.slice(0, batches.length - 3 * i), GEOMETRY)));
    await service.stop(5000);
  } finally {
    sub.unsubscribe();
  }
  return { perStream, decided: service.stats.decisions, stepsRun: service.stats.stepsRun, maxBatch: service.scheduler.stats.maxBatch };
}

describe('service on worker threads', function () {
  this.timeout(120_000);
  let batches: EventBatch[];

  before(async () => {
    batches = [];
    for await (const b of readEventFile(RECORDING)) batches.push(b);
  });

  it('gives the same decisions in the same order per stream as one thread, and sums the counters', async () => {
    const one = await decisionsPerStream(1, batches, 3);
    const two = await decisionsPerStream(2, batches, 3);
    expect(one.perStream.size).to.equal(3);
    expect([...two.perStream.keys()].sort()).to.deep.equal([...one.perStream.keys()].sort());
    for (const [id, ds] of one.perStream) {
      expect(ds.length, id).to.be.greaterThan(2);
      expect(two.perStream.get(id)!.map(essence), id).to.deep.equal(ds.map(essence));
    }
    expect(two.decided).to.equal(one.decided);
    expect(two.stepsRun).to.equal(one.stepsRun);
    expect(two.maxBatch).to.be.at.least(1);
  });

  it('a sensor that disconnects mid-sample and a trace subscriber see the threaded service like the plain one', async () => {
    const model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
    const service = await startService({ model, port: 0, threads: 2, slots: 4, runner: 'typed', traces: true });
    const base = service.address.url.replace(/^http/, 'ws');
    const got: string[] = [];
    const ws = new WebSocket(`${base}/decisions?trace=1`);
    ws.on('message', (m) => got.push(JSON.parse(String(m)).type));
    await new Promise((r) => ws.once('open', r));
    await streamToServer(`${base}/ingest/short`, batches.slice(0, 20), GEOMETRY);
    await service.stop(5000);
    ws.close();
    expect(service.stats.samples).to.be.greaterThan(0);
    // Step traces come back from the workers: as many as steps run, each before its decision.
    expect(got.filter((t) => t === 'trace')).to.have.length(service.stats.stepsRun);
    expect(got.filter((t) => t === 'decision')).to.have.length(service.stats.decisions);
    expect(got[got.length - 1]).to.equal('decision');
  });

  it('a port in use: startService rejects and its worker threads do not keep the process alive', () => {
    const script = `
      const net = require('net');
      const { startService } = require(${JSON.stringify(path.join(repoRoot, 'dist', 'src', 'server', 'service.js'))});
      const { loadClassifierModel } = require(${JSON.stringify(path.join(repoRoot, 'dist', 'src', 'snn', 'model', 'classifier-model.js'))});
      const busy = net.createServer().listen(0, '127.0.0.1', async () => {
        const model = loadClassifierModel(${JSON.stringify(path.join(repoRoot, 'models', 'gesture'))});
        try { await startService({ model, port: busy.address().port, threads: 2, runner: 'typed' }); console.log('started?'); }
        catch (e) { console.log('refused'); }
        busy.close();
      });`;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(r.signal, 'the process hung').to.equal(null);
    expect(r.stdout.trim()).to.equal('refused');
  });

  it('sumDeep adds counters field by field, nested objects included', () => {
    expect(sumDeep([{ a: 1, b: { c: 2 } }, { a: 3, b: { c: 4 } }])).to.deep.equal({ a: 4, b: { c: 6 } });
  });
});

describe('worker threads: preview frames', function () {
  this.timeout(120_000);

  it('come back as the one-thread pipeline bins them (transferred copies: the worker still steps its own)', async () => {
    const model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
    const batches: EventBatch[] = [];
    for await (const b of readEventFile(RECORDING)) batches.push(b);
    const part = batches.slice(0, 40);
    const settings = { onDecided: 'skip-to-window-end' as const };
    const local: Frame[] = [];
    const scheduler = new SnnScheduler(createRunner(model.net, 2, 'typed'));
    const want = await lastValueFrom(classifyStream({ streamId: 'cam', sensor: GEOMETRY, source: sourceFromBatches(part) }, { model, scheduler, settings, onFrame: (f) => local.push(f) }).pipe(toArray()));
    const remote: Frame[] = [];
    const pool = new ShardPool({ model, slots: 2, runner: 'typed', settings, traces: false, frames: true }, 1, { onFrame: (f) => remote.push(f) });
    try {
      await pool.ready();
      const got = await lastValueFrom(pool.classify({ streamId: 'cam', sensor: GEOMETRY, source: sourceFromBatches(part) }).pipe(toArray()));
      expect(got.map(essence)).to.deep.equal(want.map(essence));
    } finally {
      await pool.close();
    }
    expect(local.length).to.be.greaterThan(10);
    expect(remote.map((f) => [f.sampleId, f.step, f.eventCount])).to.deep.equal(local.map((f) => [f.sampleId, f.step, f.eventCount]));
    for (let k = 0; k < local.length; k++) expect(remote[k].data, `frame ${k}`).to.deep.equal(local[k].data);
  });
});
