/**
 * Resuming a live segmentation from a sample-start checkpoint (what a NATS worker does after a
 * takeover): cut the stream at any sample start, resume from the checkpoint at the batch that
 * held it, and get the same samples — and, with the bundled model, the same decisions — as the
 * uninterrupted stream.
 */
import { expect } from 'chai';
import * as path from 'path';
import { concatMap, lastValueFrom, toArray } from 'rxjs';
import { sliceByIndex, concatBatches, type EventBatch } from '../../src/events/event-batch';
import { readEventFile } from 'aedat-parser-ts/node';
import { SnnRunner } from '../../src/snn/runner';
import { SnnScheduler } from '../../src/snn/scheduler';
import { ActivityDetector, type ActivityScan } from '../../streams/core/activity-detector';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { sourceFromBatches } from '../../streams/core/event-source';
import { segmentLive, type LiveResume, type LiveSegmentation, type OnDecided, type SampleStart } from '../../streams/core/live-segmenter';
import { classifyLive } from '../../streams/operators/classify-live';
import type { Decision, Sample } from '../../streams/types';
import { randomRecording } from '../helpers/gesture-fixture';
import { repoRoot } from '../helpers/paths';

const GEOMETRY = { width: 128, height: 128 };

/** Bursts of activity (dense events) between quiet stretches, split into batches of varying sizes. */
function burstyBatches(seed: number): EventBatch[] {
  const parts: EventBatch[] = [];
  let t = 0;
  for (let k = 0; k < 8; k++) {
    parts.push(randomRecording(t, t + 150_000 + 20_000 * k, 60, seed + k)); // quiet: ~1 event / 60 µs
    t += 150_000 + 20_000 * k;
    parts.push(randomRecording(t, t + 120_000 + 15_000 * (k % 3), 4, seed + 100 + k)); // a burst
    t += 120_000 + 15_000 * (k % 3);
  }
  const all = concatBatches(parts);
  const out: EventBatch[] = [];
  let s = seed;
  for (let i = 0; i < all.length; ) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const n = 1 + (s % 9000);
    out.push(sliceByIndex(all, i, Math.min(all.length, i + n)));
    i += n;
  }
  return out;
}

/** A cut sample: its id, start, and the events it took (count, first, last, checksum of times). */
interface CutSample {
  id: string;
  tStart: number;
  events: string;
}

/**
 * Runs a segmentation, consuming each sample like a classifier that decides early: sample k
 * stops after (k % 3 + 1)·700 events and hands the rest of its last batch back.
 */
async function consumed(batches: EventBatch[], seg: LiveSegmentation, onDecided: OnDecided, resume?: LiveResume, starts?: SampleStart[]): Promise<CutSample[]> {
  const out: CutSample[] = [];
  const samples = segmentLive(sourceFromBatches(batches), {
    streamId: 's',
    geometry: GEOMETRY,
    segmentation: seg,
    onDecided,
    maxDurationUs: 400_000,
    resume,
    onSampleStart: starts ? (s) => starts.push(s) : undefined,
  });
  await lastValueFrom(
    samples.pipe(
      concatMap(async (sample: Sample) => {
        const k = Number(sample.id.split('#')[1]);
        const budget = ((k % 3) + 1) * 700;
        const control = new AbortController();
        const pull = sample.events.open(control.signal);
        let taken = 0;
        let first = NaN;
        let last = NaN;
        let sum = 0;
        let unconsumed = 0;
        for (;;) {
          const r = await pull.next();
          if (r.done) break;
          const take = Math.min(r.value.length, budget - taken);
          if (take > 0) {
            if (taken === 0) first = r.value.t[0];
            last = r.value.t[take - 1];
            for (let i = 0; i < take; i++) sum = (sum + r.value.t[i] * (r.value.x[i] + 1)) % 1_000_000_007;
          }
          taken += take;
          if (taken >= budget) {
            unconsumed = r.value.length - take;
            break;
          }
        }
        pull.settle({ unconsumed, early: taken >= budget });
        control.abort();
        out.push({ id: sample.id, tStart: sample.tStart, events: `${taken} ${first}…${last} ${sum}` });
      }),
    ),
    { defaultValue: undefined },
  );
  return out;
}

async function cut(batches: EventBatch[], seg: LiveSegmentation, onDecided: OnDecided): Promise<{ samples: CutSample[]; starts: SampleStart[] }> {
  const starts: SampleStart[] = [];
  const samples = await consumed(batches, seg, onDecided, undefined, starts);
  return { samples, starts };
}

/** The checkpoint for a sample start, and the batches from the one that holds it. */
function resumeAt(batches: EventBatch[], start: SampleStart): { from: EventBatch[]; resume: LiveResume } {
  const b = batches.indexOf(start.batch);
  expect(b, 'the start names a batch the source delivered').to.be.at.least(0);
  const { batch: _batch, tStart: _t, ...resume } = start;
  // Through JSON, as a worker stores it (−Infinity travels as null and comes back).
  const stored = JSON.parse(JSON.stringify(resume, (_k, v: unknown) => (v === -Infinity ? null : v))) as LiveResume & { detector?: { times: number[]; quietFrom: number | null } };
  const detector = stored.detector ? { times: stored.detector.times, quietFrom: stored.detector.quietFrom ?? -Infinity } : undefined;
  return { from: batches.slice(b), resume: { ...stored, detector } };
}

describe('ActivityDetector: snapshot and restore', () => {
  it('a detector restored from a snapshot scans the rest of the stream exactly like the original', () => {
    const batches = burstyBatches(7);
    for (const threshold of [5, 150]) {
      const whole = new ActivityDetector(50_000, threshold);
      const scans: ActivityScan[] = batches.map((b) => whole.scan(b));
      for (const cutAt of [1, 5, Math.floor(batches.length / 2), batches.length - 1]) {
        const first = new ActivityDetector(50_000, threshold);
        for (let b = 0; b < cutAt; b++) first.scan(batches[b]);
        const snap = first.snapshot();
        expect(snap.times.length).to.be.at.most(threshold);
        const second = new ActivityDetector(50_000, threshold);
        second.restore(JSON.parse(JSON.stringify(snap)) as typeof snap);
        for (let b = cutAt; b < batches.length; b++) {
          const r = second.scan(batches[b]);
          expect([...r.above], `threshold ${threshold}, cut at ${cutAt}, batch ${b}`).to.deep.equal([...scans[b].above]);
          expect([...r.quietAfter]).to.deep.equal([...scans[b].quietAfter]);
          expect(r.quietBefore0).to.equal(scans[b].quietBefore0);
        }
      }
    }
  });

  it('refuses a snapshot with more times than the level or times going backwards', () => {
    const d = new ActivityDetector(50_000, 3);
    expect(() => d.restore({ times: [1, 2, 3, 4], quietFrom: 0 })).to.throw(RangeError, /4 times for a level of 3/);
    expect(() => d.restore({ times: [5, 2], quietFrom: 0 })).to.throw(RangeError, /non-decreasing/);
  });
});

describe('segmentLive: resume from a sample-start checkpoint', () => {
  const batches = burstyBatches(11);
  const modes: [string, LiveSegmentation, OnDecided][] = [
    ['activity, next-sample', { kind: 'activity', windowUs: 50_000, threshold: 150, quietUs: 60_000 }, 'next-sample'],
    ['activity, skip-to-window-end', { kind: 'activity', windowUs: 50_000, threshold: 150, quietUs: 60_000 }, 'skip-to-window-end'],
    ['tumbling', { kind: 'tumbling', durationUs: 90_000 }, 'next-sample'],
  ];
  for (const [name, seg, onDecided] of modes) {
    it(`${name}: cut at every sample start, the resumed stream cuts the same samples`, async () => {
      const { samples, starts } = await cut(batches, seg, onDecided);
      expect(samples.length).to.be.greaterThan(5);
      expect(starts.map((s) => s.sample)).to.deep.equal(samples.map((_s, k) => k));
      for (const start of starts) {
        const { from, resume } = resumeAt(batches, start);
        const resumed = await consumed(from, seg, onDecided, resume);
        expect(resumed, `resumed at sample ${start.sample}`).to.deep.equal(samples.slice(start.sample));
      }
    });
  }

  it('refuses a resume index outside the first batch', async () => {
    const err = await lastValueFrom(segmentLive(sourceFromBatches(batches), { streamId: 's', geometry: GEOMETRY, resume: { index: batches[0].length, sample: 3 } })).catch((e: unknown) => e);
    expect(String(err)).to.match(/resume index \d+ is outside the first batch/);
  });
});

describe('classifyLive: resumed at any sample start, the same decisions (bundled model and recording)', function () {
  this.timeout(120_000);
  const model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
  const essence = (d: Decision) => [d.sampleId, d.label, d.steps, d.stoppedBy, d.sampleStartUs, d.eventTimeUs, d.confidence, d.eventsConsumed];

  async function decide(batches: EventBatch[], onDecided: OnDecided, resume?: LiveResume, starts?: SampleStart[]): Promise<Decision[]> {
    const scheduler = new SnnScheduler(new SnnRunner(model.net, 2));
    return lastValueFrom(classifyLive('cam', GEOMETRY, sourceFromBatches(batches), { model, scheduler, onDecided, resume, onSampleStart: starts ? (s) => starts.push(s) : undefined }).pipe(toArray()));
  }

  for (const onDecided of ['next-sample', 'skip-to-window-end'] as const) {
    it(`${onDecided}: every resumed run equals the uninterrupted run from its sample on`, async () => {
      const batches: EventBatch[] = [];
      // 10 ms slices, as a paced sensor sends them.
      for await (const b of readEventFile(path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat'), { chunkBytes: 40_000 })) batches.push(b);
      const starts: SampleStart[] = [];
      const whole = await decide(batches, onDecided, undefined, starts);
      expect(whole.length).to.be.greaterThan(15);
      expect(starts.length).to.be.at.least(whole.length);
      for (const start of starts) {
        const { from, resume } = resumeAt(batches, start);
        const resumed = await decide(from, onDecided, resume);
        const expected = whole.filter((d) => Number(d.sampleId.split('#')[1]) >= start.sample);
        expect(resumed.map(essence), `resumed at sample ${start.sample}`).to.deep.equal(expected.map(essence));
      }
    });
  }
});
