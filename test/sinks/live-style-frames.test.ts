import { expect } from 'chai';
import { concatBatches, sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import { sourceFromBatches } from '../../streams/core/event-source';
import { FrameCursor } from '../../streams/core/frame-cursor';
import { segmentLive } from '../../streams/core/live-segmenter';
import { collectLiveStyleFrames, cutLiveStyle, prefixLabel, stepLabelsOf, type LiveStyleSampleInfo, type WholeRecording } from '../../streams/sinks/live-style-frames';
import type { Sample } from '../../streams/types';
import { randomRecording } from '../helpers/gesture-fixture';

const geometry = { width: 128, height: 128 };
const binUs = 100_000;
const T = 16;
// Two bursts of activity (~10 kev/s) with quiet around them; a gesture window inside each.
const events = concatBatches([randomRecording(500_000, 2_500_000, 100, 1), randomRecording(3_500_000, 5_500_000, 100, 2)]);
const rec: WholeRecording = {
  streamId: 'rec',
  geometry,
  events,
  windows: [
    { tStart: 800_000, tEnd: 2_300_000, label: 2 },
    { tStart: 3_800_000, tEnd: 5_300_000, label: 4 },
  ],
};

function chunks(b: EventBatch, size: number): EventBatch[] {
  const out: EventBatch[] = [];
  for (let i = 0; i < b.length; i += size) out.push(sliceByIndex(b, i, i + size));
  return out;
}

/**
 * The reference: the live segmenter over a chunked stream, each sample consumed the way the engine
 * does (pull only as far as the next frame needs, stop early at step k unless it is the last,
 * settle with the cursor's unconsumed events). Returns the samples' starts.
 */
async function engineLikeStarts(k: number): Promise<number[]> {
  const starts: number[] = [];
  const run = async (s: Sample): Promise<void> => {
    starts.push(s.tStart);
    const cursor = new FrameCursor({ geometry, tStart: s.tStart, binUs, downsample: 4, maxSteps: T });
    const pull = s.events.open(new AbortController().signal);
    let early = false;
    for (;;) {
      const f = cursor.next();
      if (f) {
        const last = f.step + 1 >= T || f.closedBy === 'stream-end' || f.closedBy === 'window-end';
        if (f.step + 1 === k && !last) early = true;
        if (early || last) break;
        continue;
      }
      if (cursor.finished || !cursor.needsInput) break;
      const r = await pull.next();
      if (r.done) cursor.end();
      else cursor.feed(r.value);
    }
    pull.settle({ unconsumed: cursor.unconsumed, early });
  };
  await new Promise<void>((resolve, reject) => {
    segmentLive(sourceFromBatches(chunks(events, 777)), { streamId: 'rec', geometry, maxDurationUs: binUs * T }).subscribe({
      next: (s) => void run(s).catch(reject),
      error: reject,
      complete: resolve,
    });
  });
  return starts;
}

async function cut(o: Partial<Parameters<typeof cutLiveStyle>[1]> = {}): Promise<{ infos: LiveStyleSampleInfo[]; frames: Float32Array[] }> {
  const infos: LiveStyleSampleInfo[] = [];
  const frames: Float32Array[] = [];
  await cutLiveStyle(rec, { binUs, T, downsample: 4, ...o }, (info, f) => {
    infos.push(info);
    frames.push(f.slice());
  });
  return { infos, frames };
}

describe('live-style cutting (frames --live-style)', function () {
  this.timeout(20_000);

  it('the label rule: a prefix gets the class of the window its end lies in, if that window covers at least minOverlap of it', () => {
    expect(prefixLabel(rec.windows, 500_000, 2_100_000)).to.equal(2); // 1.3 of 1.6 s, ends inside
    expect(prefixLabel(rec.windows, 500_000, 1_000_000)).to.equal(-1); // ends inside, but 0.2 of 0.5 s
    expect(prefixLabel(rec.windows, 500_000, 1_100_000)).to.equal(2); // exactly half
    expect(prefixLabel(rec.windows, 500_000, 1_100_000, 0.6)).to.equal(-1);
    expect(prefixLabel(rec.windows, 2_000_000, 2_400_000)).to.equal(-1); // mostly gesture, but it ended: a late answer
    expect(prefixLabel(rec.windows, 2_000_000, 2_300_000)).to.equal(2); // the window's end belongs to it
    expect(prefixLabel(rec.windows, 2_000_000, 3_900_000)).to.equal(-1); // ends in the next gesture, which covers 0.1 of 1.9 s
    expect(prefixLabel(rec.windows, 3_000_000, 3_500_000)).to.equal(-1);
    // Step labels of a sample from 0.5 s with 100 ms frames (the last one at 1.65 s): −1 until half of it is the gesture.
    const ends = Array.from({ length: 11 }, (_, k) => 600_000 + k * 100_000).concat([1_650_000]);
    expect(Array.from(stepLabelsOf(rec.windows, 500_000, ends, 14))).to.deep.equal([-1, -1, -1, -1, -1, 2, 2, 2, 2, 2, 2, 2, 2, 2]);
  });

  for (const k of [1, 3, 7]) {
    it(`restarts exactly where the engine's decision at step ${k} would restart the live segmenter`, async () => {
      const { infos } = await cut({ restartSteps: [k, k] });
      const expected = await engineLikeStarts(k);
      expect(infos.map((s) => s.tStart)).to.deep.equal(expected);
      expect(infos.length).to.be.greaterThan(k === 1 ? 20 : 4);
      for (const s of infos) expect(s.decidedAt === k || s.frames <= k, `${s.tStart}`).to.equal(true);
    });
  }

  it('samples start at activity onsets and mid-gesture; the ones mostly outside a window are −1', async () => {
    const { infos, frames } = await cut({ restartSteps: [3, 3] });
    expect(infos[0].tStart).to.be.within(500_000, 520_000); // the first onset
    expect(infos.every((s) => s.kind === 'live')).to.equal(true);
    const second = infos.findIndex((s) => s.tStart >= 3_500_000);
    expect(infos[second].tStart).to.be.within(3_500_000, 3_520_000); // the onset after the quiet gap
    expect(infos[1].tStart).to.be.within(infos[0].tStart + 300_000, infos[0].tStart + 300_100); // right after step 3
    expect(infos.some((s) => s.label === -1)).to.equal(true);
    for (const s of infos) {
      expect(s.label).to.equal(prefixLabel(rec.windows, s.tStart, s.tEnd));
      expect(s.stepLabels[0]).to.equal(prefixLabel(rec.windows, s.tStart, s.tStart + binUs));
    }
    // The first sample starts 0.3 s before the window: its first prefixes are no gesture, later ones the gesture.
    expect(Array.from(infos[0].stepLabels.subarray(0, 8))).to.deep.equal([-1, -1, -1, -1, -1, 2, 2, 2]);
    // A burst's last samples run into the quiet: fewer than T frames, zero-padded.
    const tail = infos[second - 1];
    expect(tail.frames).to.be.lessThan(T);
    const per = frames[0].length / T;
    expect(frames[second - 1].subarray(tail.frames * per).every((v) => v === 0)).to.equal(true);
    expect(frames[0].some((v) => v > 0)).to.equal(true);
  });

  it('withWindows adds one sample per label window; passes and seeds change the draws, the same seed repeats them', async () => {
    const a = await cut({ withWindows: true, passes: 2, seed: 5 });
    const windowSamples = a.infos.filter((s) => s.kind === 'window');
    expect(windowSamples.map((s) => [s.tStart, s.label, s.frames])).to.deep.equal([
      [800_000, 2, 15],
      [3_800_000, 4, 15],
    ]);
    const pass0 = a.infos.filter((s) => s.kind === 'live' && s.pass === 0).map((s) => s.tStart);
    const pass1 = a.infos.filter((s) => s.kind === 'live' && s.pass === 1).map((s) => s.tStart);
    expect(pass0).to.not.deep.equal(pass1);
    const again = await cut({ withWindows: true, passes: 2, seed: 5 });
    expect(again.infos).to.deep.equal(a.infos);
    expect(again.frames).to.deep.equal(a.frames);
    const other = await cut({ passes: 1, seed: 6 });
    expect(other.infos.map((s) => s.tStart)).to.not.deep.equal(pass0);
  });

  it('collects a frame dataset (labels −1 for no gesture) and refuses bad options', async () => {
    const { dataset, samples } = await collectLiveStyleFrames([rec], { binUs, T, downsample: 4, restartSteps: [4, 4], classes: ['a', 'b', 'c', 'd', 'e'] });
    expect(dataset.n).to.equal(samples.length);
    expect(dataset.frames.length).to.equal(dataset.n * T * 32 * 32 * 2);
    expect(Array.from(dataset.labels)).to.deep.equal(samples.map((s) => s.label));
    expect(Array.from(dataset.stepLabels!)).to.deep.equal(samples.flatMap((s) => Array.from(s.stepLabels)));
    expect(dataset.classes).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
    const bad = async (o: Record<string, unknown>) => {
      try {
        await cutLiveStyle(rec, { binUs, T, ...o } as never, () => undefined);
      } catch (err) {
        return err as Error;
      }
      return undefined;
    };
    expect((await bad({ binUs: 0 }))?.message).to.contain('binUs');
    expect((await bad({ restartSteps: [5, 2] }))?.message).to.contain('restart steps');
    expect((await bad({ passes: 0 }))?.message).to.contain('passes');
    expect((await bad({ minOverlap: -0.1 }))?.message).to.contain('minOverlap');
    expect((await bad({ minOverlap: 1.5 }))?.message).to.contain('minOverlap');
  });

  it('minOverlap 0 labels a prefix by the window holding its end (the live scoring rule), however little of it the window covers', () => {
    const windows = [{ label: 3, tStart: 1000, tEnd: 2000 }];
    expect(prefixLabel(windows, 0, 1001, 0)).to.equal(3);
    expect(prefixLabel(windows, 0, 1001, 0.01)).to.equal(-1);
    expect(prefixLabel(windows, 0, 2001, 0)).to.equal(-1);
  });
});
