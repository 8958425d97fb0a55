import { expect } from 'chai';
import { PassThrough, Writable } from 'stream';
import { Subject, from, lastValueFrom, toArray } from 'rxjs';
import { FakeSocket as BaseFakeSocket } from '../helpers/sockets';
import { SubscriberHub, toSubscribers, type SubscriberSocket } from '../../streams/sinks/to-subscribers';
import { toNdjson, writeNdjson } from '../../streams/sinks/to-ndjson';
import type { Decision } from '../../streams/types';

class FakeSocket extends BaseFakeSocket<string> implements SubscriberSocket {}

const d = (streamId: string, i: number): Decision => ({
  streamId,
  sampleId: `${streamId}#${i}`,
  label: 1,
  className: 'c',
  confidence: 0.8,
  paperConfidence: 0.8,
  stopRule: 'paper',
  steps: 2,
  maxSteps: 8,
  early: true,
  confident: true,
  stoppedBy: 'confidence',
  sampleStartUs: 0,
  eventTimeUs: i,
  latencyMs: 0.1,
  eventsConsumed: 10,
  spikesPerNeuron: 0.1,
});

describe('sinks/to-subscribers (hub with fake sockets)', () => {
  it('filters, drops over the backlog limit per subscriber, counts, removes closed sockets', () => {
    const drops: number[] = [];
    const hub = new SubscriberHub({ maxBufferedBytes: 1000, onDrop: (s) => drops.push(s.id) });
    const a = new FakeSocket();
    const b = new FakeSocket();
    const onlyX = new FakeSocket();
    hub.add(a);
    const sb = hub.add(b, { trace: true });
    hub.add(onlyX, { stream: 'x' });
    expect(hub.publish(d('x', 0))).to.equal(3);
    expect(hub.publish(d('y', 1))).to.equal(2);
    expect(hub.publishTrace({ streamId: 'y', sampleId: 'y#1', step: 0, confidence: 0.1, predicted: 0 })).to.equal(1);
    b.bufferedAmount = 990; // stalled
    expect(hub.publish(d('x', 2))).to.equal(2);
    expect(sb.dropped).to.equal(1);
    expect(hub.droppedTotal).to.equal(1);
    expect(drops).to.deep.equal([sb.id]);
    expect(JSON.parse(a.sent[0])).to.deep.equal({ type: 'decision', ...d('x', 0) });
    expect(b.sent.map((s) => JSON.parse(s).type)).to.deep.equal(['decision', 'decision', 'trace']);
    a.close();
    expect(hub.size).to.equal(2);
    hub.closeAll(1001);
    expect(onlyX.closedWith).to.equal(1001);
    expect(hub.size).to.equal(0);
  });

  it('?confident=1 subscribers get answers only; uncertain decisions go to the others', () => {
    const hub = new SubscriberHub({ maxBufferedBytes: 1 << 20 });
    const all = new FakeSocket();
    const answers = new FakeSocket();
    hub.add(all);
    hub.add(answers, { confident: true });
    expect(hub.publish(d('x', 0))).to.equal(2);
    expect(hub.publish({ ...d('x', 1), confident: false, stoppedBy: 'max-steps', early: false })).to.equal(1);
    expect(all.sent).to.have.length(2);
    expect(answers.sent.map((m) => JSON.parse(m).sampleId)).to.deep.equal(['x#0']);
  });

  it('terminates a subscriber stalled for stallTimeoutMs, measured on its clock', () => {
    let nowMs = 1000;
    const hub = new SubscriberHub({ maxBufferedBytes: 100, stallTimeoutMs: 20, now: () => nowMs });
    const s = new FakeSocket();
    s.bufferedAmount = 100;
    hub.add(s);
    hub.publish(d('x', 0)); // the first drop starts the stall
    nowMs += 19;
    hub.publish(d('x', 1));
    expect(s.terminated, 'stalled 19 ms of 20').to.equal(false);
    nowMs += 1;
    hub.publish(d('x', 2));
    expect(s.terminated).to.equal(true);
    expect(hub.size).to.equal(0);
  });

  it('toSubscribers publishes and passes decisions through', async () => {
    const hub = new SubscriberHub();
    const s = new FakeSocket();
    hub.add(s);
    const out = await lastValueFrom(from([d('x', 0), d('x', 1)]).pipe(toSubscribers(hub), toArray()));
    expect(out.length).to.equal(2);
    expect(s.sent.length).to.equal(2);
  });
});

describe('sinks/to-ndjson', () => {
  it('toNdjson writes lines and drops (counted) while the stream is over its limit', async () => {
    // A writable that never calls back: everything stays buffered.
    const chunks: string[] = [];
    const stuck = new Writable({
      highWaterMark: 64,
      write(chunk, _enc, _cb) {
        chunks.push(String(chunk));
      },
    });
    const stats = { written: 0, dropped: 0, bytes: 0 };
    const src = new Subject<{ i: number }>();
    const passed: number[] = [];
    src.pipe(toNdjson(stuck, { maxBufferedBytes: 40, stats })).subscribe((v) => passed.push(v.i));
    for (let i = 0; i < 10; i++) src.next({ i });
    src.complete();
    expect(passed.length).to.equal(10);
    expect(stats.written).to.be.greaterThan(0);
    expect(stats.dropped).to.be.greaterThan(0);
    expect(stats.written + stats.dropped).to.equal(10);
    expect(chunks[0]).to.equal('{"i":0}\n');
  });

  it('writeNdjson awaits drain and loses nothing', async () => {
    const out = new PassThrough({ highWaterMark: 16 });
    let text = '';
    // A slow reader.
    const reading = (async () => {
      for await (const c of out) {
        text += String(c);
        await new Promise((r) => setImmediate(r));
      }
    })();
    async function* values() {
      for (let i = 0; i < 200; i++) yield { i, s: 'abc' };
    }
    const stats = await writeNdjson(values(), out, { end: true });
    await reading;
    const lines = text.trimEnd().split('\n');
    expect(stats).to.include({ written: 200, dropped: 0 });
    expect(lines.length).to.equal(200);
    expect(JSON.parse(lines[199])).to.deep.equal({ i: 199, s: 'abc' });
  });
});
