import { FakeSocket as BaseFakeSocket } from '../helpers/sockets';
import { sleep, waitFor } from '../helpers/time';
import { expect } from 'chai';
import {
  checkPreviewFps,
  decodePreviewFrame,
  encodePreviewFrame,
  PREVIEW_HEADER_BYTES,
  PreviewFormatError,
  PreviewHub,
  previewFits,
  type PreviewSocket,
} from '../../src/server/preview';
import { stepTrace } from '../../streams/core/step-trace';
import type { Frame, StepResult } from '../../streams/types';

function frame(streamId: string, step: number, fill: (i: number) => number = (i) => i % 300, w = 4, h = 3): Frame {
  const data = new Float32Array(w * h * 2);
  for (let i = 0; i < data.length; i++) data[i] = fill(i);
  return { sampleId: `${streamId}#0`, streamId, step, tStart: step * 1000, tEnd: (step + 1) * 1000, eventCount: 1234, closedBy: 'time', height: h, width: w, data };
}

/** A socket that records the frames it is sent. */
class FakeSocket extends BaseFakeSocket<Uint8Array> implements PreviewSocket {
  steps(): number[] {
    return this.sent.map((m) => decodePreviewFrame(m).step);
  }
}

describe('viewer preview frames: the binary message', () => {
  it('encodes a frame as header, ids and counts clipped to 0…255, and decodes it back', () => {
    const f = frame('cam0', 7, (i) => (i === 0 ? 999 : i === 1 ? -3 : i === 2 ? 2.7 : i));
    const msg = encodePreviewFrame(f);
    expect(msg.length).to.equal(PREVIEW_HEADER_BYTES + 'cam0'.length + 'cam0#0'.length + 4 * 3 * 2);
    const d = decodePreviewFrame(msg);
    expect({ ...d, counts: [...d.counts] }).to.deep.equal({
      streamId: 'cam0',
      sampleId: 'cam0#0',
      step: 7,
      width: 4,
      height: 3,
      eventCount: 1234,
      tEnd: 8000,
      counts: [255, 0, 2, ...Array.from({ length: 21 }, (_, k) => k + 3)],
    });
  });

  it('refuses what it cannot carry or read, naming why', () => {
    const long = frame('x'.repeat(300), 0);
    expect(previewFits(long)).to.equal(false);
    expect(() => encodePreviewFrame(long)).to.throw(RangeError, /does not fit a preview message/);
    expect(previewFits({ ...frame('a', 0), step: 70_000 })).to.equal(false);
    expect(previewFits(frame('é'.repeat(100), 0))).to.equal(true); // 200 UTF-8 bytes
    const ok = encodePreviewFrame(frame('cam', 1));
    expect(() => decodePreviewFrame(ok.subarray(0, 10))).to.throw(PreviewFormatError, /shorter than its 24-byte header/);
    expect(() => decodePreviewFrame(ok.subarray(0, ok.length - 1))).to.throw(PreviewFormatError, /header says/);
    const v2 = ok.slice();
    v2[0] = 2;
    expect(() => decodePreviewFrame(v2)).to.throw(PreviewFormatError, /version 2/);
    const badId = ok.slice();
    badId[PREVIEW_HEADER_BYTES] = 0xff;
    expect(() => decodePreviewFrame(badId)).to.throw(PreviewFormatError, /UTF-8/);
  });

  it('checkPreviewFps takes (0, 1000]', () => {
    expect(checkPreviewFps(20)).to.equal(20);
    expect(checkPreviewFps(0.5)).to.equal(0.5);
    for (const bad of [0, -1, 1001, NaN]) expect(() => checkPreviewFps(bad)).to.throw(RangeError, /preview fps/);
  });
});

describe('viewer preview frames: PreviewHub', () => {
  it('keeps nothing for a stream nobody watches', () => {
    const hub = new PreviewHub({ fps: 10 });
    const s = new FakeSocket();
    hub.add(s, { stream: 'other' });
    expect(hub.wants('cam')).to.equal(false);
    hub.publish(frame('cam', 0));
    hub.end('cam');
    expect(s.sent).to.deep.equal([]);
    hub.closeAll();
  });

  it('sends at most fps frames a second per stream; a burst is thinned and its last frame always goes out', async () => {
    let sentCount = 0;
    const hub = new PreviewHub({ fps: 20, onSent: () => sentCount++ });
    const all = new FakeSocket();
    const onlyB = new FakeSocket();
    hub.add(all);
    hub.add(onlyB, { stream: 'b' });
    // 200 frames of stream a in 10 ms, then 5 of stream b.
    const burstAt = performance.now();
    for (let i = 0; i < 200; i++) hub.publish(frame('a', i));
    for (let i = 0; i < 5; i++) hub.publish(frame('b', i));
    expect(all.steps()).to.deep.equal([0, 0]); // the first frame of each stream at once
    await waitFor(() => all.sent.length >= 4, 1000, 'the pending frames to go out');
    // One interval (50 ms) later, not sooner (a timer may fire up to 1 ms early): the newest pending frame of each.
    expect(performance.now() - burstAt).to.be.at.least(49);
    expect(all.steps()).to.deep.equal([0, 0, 199, 4]);
    expect(onlyB.steps()).to.deep.equal([0, 4]);
    // Over a longer run at a steady 500 frames/s: about fps frames a second go out.
    const t0 = performance.now();
    let step = 200;
    while (performance.now() - t0 < 500) {
      hub.publish(frame('a', step++));
      await sleep(2); // paces the publisher: a steady 500 frames/s
    }
    const sentOfA = () => all.sent.map((m) => decodePreviewFrame(m)).filter((f) => f.streamId === 'a');
    await waitFor(() => sentOfA().at(-1)?.step === step - 1, 1000, 'the last pending frame to go out');
    const aSteps = sentOfA();
    expect(aSteps.length).to.be.within(2 + 8, 2 + 12); // 500 ms at 20/s, plus the burst's two
    expect(aSteps[aSteps.length - 1].step).to.equal(step - 1);
    expect(sentCount).to.equal(all.sent.length + onlyB.sent.length);
    hub.closeAll();
  });

  it('drops and counts, per subscriber, what would take its backlog over the bound; the others still get it', () => {
    let drops = 0;
    const hub = new PreviewHub({ fps: 1000, maxBufferedBytes: 4096, onDrop: () => drops++ });
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    hub.add(slow);
    hub.add(fast);
    slow.bufferedAmount = 4090; // + this 56-byte message > 4096
    hub.publish(frame('cam', 0));
    expect([slow.sent.length, fast.sent.length, drops, hub.droppedTotal]).to.deep.equal([0, 1, 1, 1]);
    expect(hub.stats().map((s) => [s.sent, s.dropped])).to.deep.equal([
      [0, 1],
      [1, 0],
    ]);
    hub.closeAll();
  });

  it('end() sends the stream’s pending frame at once and forgets it; closeAll() closes every socket and clears its timers', () => {
    const counts: number[] = [];
    const hub = new PreviewHub({ fps: 1, onCount: (n) => counts.push(n) });
    const s = new FakeSocket();
    hub.add(s);
    hub.publish(frame('cam', 0));
    hub.publish(frame('cam', 1)); // pending for a second
    hub.end('cam');
    expect(s.steps()).to.deep.equal([0, 1]);
    hub.publish(frame('cam', 2)); // a new start: sent at once
    hub.publish(frame('cam', 3));
    hub.closeAll(1001);
    expect(s.closedWith).to.equal(1001);
    expect(hub.size).to.equal(0);
    expect(counts).to.deep.equal([1, 0]);
    expect(s.steps()).to.deep.equal([0, 1, 2]);
  });

  it('counts a frame it cannot encode instead of throwing into the engine', () => {
    const hub = new PreviewHub();
    const s = new FakeSocket();
    hub.add(s);
    hub.publish(frame('x'.repeat(300), 0));
    expect([s.sent.length, hub.unfit]).to.deep.equal([0, 1]);
    hub.closeAll();
  });
});

describe('viewer traces: stepTrace', () => {
  it('adds the class probabilities softmax(O/(α·τ)), whose largest is the step’s confidence', () => {
    const output = new Float32Array([1, 6, 3]);
    const r: StepResult = {
      sampleId: 'cam#2',
      streamId: 'cam',
      step: 4,
      output,
      confidence: 0,
      paperConfidence: 0.6424,
      predicted: 1,
      spikes: [],
      spikesPerNeuron: 0,
      frame: { tStart: 0, tEnd: 5000, eventCount: 42, closedBy: 'time' },
    };
    const t = stepTrace({ ...r, confidence: 0.6424 }, { alpha: 2, tau: 1.5, stopRule: 'paper' });
    const e = [1, 6, 3].map((o) => Math.exp(o / 3));
    const sum = e.reduce((a, b) => a + b, 0);
    expect(t.probabilities).to.deep.equal(e.map((x) => Math.round((1e4 * x) / sum) / 1e4));
    expect(Math.max(...t.probabilities)).to.be.closeTo(0.6424, 1e-4);
    expect({ ...t, probabilities: undefined }).to.deep.equal({ streamId: 'cam', sampleId: 'cam#2', step: 4, confidence: 0.6424, paperConfidence: 0.6424, predicted: 1, eventTimeUs: 5000, eventCount: 42, probabilities: undefined });
  });

  it('under the calibrated rule, the probabilities are softmax(O/s_t) with the step’s calibrated scale', () => {
    const output = new Float32Array([1, 6, 3]);
    const r: StepResult = { sampleId: 'cam#2', streamId: 'cam', step: 1, output, confidence: 0, paperConfidence: 0, predicted: 1, spikes: [], spikesPerNeuron: 0, frame: { tStart: 0, tEnd: 5000, eventCount: 42, closedBy: 'time' } };
    const calibration = { method: 'step-temperature' as const, form: 'per-step' as const, scales: [1, 4, 9] };
    const t = stepTrace(r, { alpha: 2, tau: 1.5, stopRule: 'calibrated', calibration });
    const e = [1, 6, 3].map((o) => Math.exp(o / 4));
    const sum = e.reduce((a, b) => a + b, 0);
    expect(t.probabilities).to.deep.equal(e.map((x) => Math.round((1e4 * x) / sum) / 1e4));
  });
});
