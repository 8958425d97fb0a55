/**
 * The one live segmentation: ONE stream's pulled events → its samples, one at a time.
 *
 * A sample starts at the event that brings the rate to the level (activity) or at the first
 * event of a tumbling window, and ends after a quiet gap, at `maxDurationUs`, at its tumbling
 * window's end, or when its consumer stops it (a decision). The next sample is cut only after the
 * previous one's consumer settled its pull: events it pulled but never binned go back to the
 * stream (`onDecided: 'next-sample'`, the default) or are skipped to where the sample would have
 * ended ('skip-to-window-end'). Decisions therefore depend only on the events — not on how they
 * were split into messages, paced, or on how many streams share the runner.
 */
import { Observable } from 'rxjs';
import { sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import type { Sample } from '../types';
import { ActivityDetector, activityEndIndex, type ActivityScan, type ActivitySnapshot } from './activity-detector';
import { ABORTED, KeptRead, raceAbort, type EventPull, type EventSource, type PullSettlement } from './event-source';

export type LiveSegmentation =
  | { readonly kind: 'activity'; readonly windowUs: number; readonly threshold: number; readonly quietUs: number }
  | { readonly kind: 'tumbling'; readonly durationUs: number };

/** Default live segmentation: a sample starts when ≥ 150 events fall in 50 ms (3 kev/s) and ends after 300 ms below that. */
export const DEFAULT_LIVE_SEGMENTATION: LiveSegmentation = { kind: 'activity', windowUs: 50_000, threshold: 150, quietUs: 300_000 };

/** What a live segmenter does after a sample is decided early. */
export type OnDecided = 'next-sample' | 'skip-to-window-end';

/**
 * `samples` cut; `routed` events binned by samples; `skipped` events passed over after early
 * decisions ('skip-to-window-end'); `unrouted` events outside every sample (below the activity
 * level); `decided` samples decided early.
 */
export interface SegmentStats {
  samples: number;
  routed: number;
  skipped: number;
  unrouted: number;
  decided: number;
}

export function segmentStats(): SegmentStats {
  return { samples: 0, routed: 0, skipped: 0, unrouted: 0, decided: 0 };
}

export interface LiveSegmentOptions {
  readonly streamId: string;
  readonly geometry: Geometry;
  /** Label given to every sample (e.g. a recording of one class). */
  readonly label?: number;
  readonly segmentation?: LiveSegmentation;
  /** A sample ends at tStart + maxDurationUs at the latest (set it to T·bin; default Infinity). */
  readonly maxDurationUs?: number;
  readonly onDecided?: OnDecided;
  /**
   * A stream that delivers nothing for this many wall-clock ms ends the sample in progress (its
   * open bin becomes its last frame), so a silent sensor still gets its answer. Off by default:
   * it makes decisions depend on arrival timing whenever a stream stalls that long.
   */
  readonly idleFlushMs?: number;
  readonly stats?: SegmentStats;
  /**
   * Go on from a checkpoint (`SampleStart` of an earlier run, less its batch): the source's first
   * batch must be the batch that held that sample's first event. Off: start at the stream's start.
   */
  readonly resume?: LiveResume;
  /** Each sample's start, before the sample is emitted: what a checkpoint needs to resume there. */
  readonly onSampleStart?: (start: SampleStart) => void;
}

/**
 * Where a live segmentation stands at a sample's first event — all of its state there: the
 * position, the next sample number, the tumbling origin and the activity detector's state before
 * the batch holding that event was scanned (the detector scans each batch whole). A segmenter
 * resumed from it cuts the same samples as the uninterrupted one.
 */
export interface LiveResume {
  /** Index of the sample's first event in the source's first batch. */
  readonly index: number;
  /** The sample's number (its id is `${streamId}#${sample}`); later samples count on from it. */
  readonly sample: number;
  readonly tumblingOrigin?: number;
  /** Activity segmentation: the detector's state before that batch was scanned. */
  readonly detector?: ActivitySnapshot;
}

/** A sample's start as `onSampleStart` reports it: a `LiveResume` plus the batch (as the source delivered it) holding the first event. */
export interface SampleStart extends LiveResume {
  readonly batch: EventBatch;
  readonly tStart: number;
}

const DONE: IteratorResult<EventBatch, undefined> = { done: true, value: undefined };

/** A read position over the stream's pulled batches, with the activity detector's view of each batch. */
class StreamReader {
  batch: EventBatch | null = null;
  scan: ActivityScan | null = null;
  i = 0;
  /** The detector's state before `batch` was scanned (kept only when `keepSnapshots`). */
  before: ActivitySnapshot | undefined;
  private done = false;
  private readonly reads: KeptRead<EventBatch, undefined>;

  constructor(
    private readonly pull: EventPull,
    private readonly detector: ActivityDetector | null,
    private readonly keepSnapshots: boolean,
    private resume: LiveResume | undefined,
  ) {
    this.reads = new KeptRead(() => pull.next());
  }

  /**
   * True when an event is available at `i`, pulling batches as needed; false at the stream's end
   * or when `signal` aborted; 'idle' after `idleMs` of wall time without a batch. A pull left
   * pending by 'idle' or an abort is kept for the next call: no batch is ever lost.
   */
  async ensure(signal: AbortSignal, idleMs?: number): Promise<boolean | 'idle'> {
    while (this.batch === null || this.i >= this.batch.length) {
      if (this.done || signal.aborted) return false;
      const got = await this.reads.next(signal, idleMs);
      if (got === ABORTED) return false;
      if (got === 'idle') return 'idle';
      if (got.done) {
        this.done = true;
        this.batch = null;
        return false;
      }
      if (got.value.length === 0) continue;
      this.batch = got.value;
      this.i = 0;
      const resume = this.resume;
      this.resume = undefined;
      if (resume) {
        if (!(Number.isInteger(resume.index) && resume.index >= 0 && resume.index < got.value.length)) {
          throw new RangeError(`segmentLive: resume index ${resume.index} is outside the first batch (${got.value.length} events)`);
        }
        if (resume.detector && this.detector) this.detector.restore(resume.detector);
        this.i = resume.index;
      }
      if (this.keepSnapshots && this.detector) this.before = this.detector.snapshot();
      // The detector sees every event once, in order: its verdicts depend on the events alone.
      this.scan = this.detector ? this.detector.scan(got.value) : null;
    }
    return true;
  }

  get current(): EventBatch {
    return this.batch as EventBatch;
  }
}

/** The segmentation, or a RangeError naming the setting that cannot work. */
function checkedSegmentation(seg: LiveSegmentation): LiveSegmentation {
  if (seg.kind === 'activity' && !(seg.windowUs > 0 && Number.isInteger(seg.threshold) && seg.threshold > 0 && seg.quietUs >= 0)) {
    throw new RangeError(`segmentLive: activity segmentation needs windowUs > 0, an integer threshold > 0 and quietUs >= 0`);
  }
  if (seg.kind === 'tumbling' && !(Number.isFinite(seg.durationUs) && seg.durationUs > 0)) throw new RangeError(`segmentLive: durationUs must be > 0`);
  return seg;
}

/** One sample's pull from the stream: its events, the consumer's settlement, and how far it was fed. */
interface SamplePull {
  readonly events: EventSource;
  readonly settled: Promise<PullSettlement>;
  /** Reader index just past the last event handed out. */
  readonly fedTo: number;
  /** Events handed out so far. */
  readonly consumed: number;
}

/**
 * The sample's events: each pull hands out the rest of the reader's current batch up to the sample's
 * end (`endIndex(from)`: the batch length while the sample goes on), one slice per batch. The
 * sample ends where `endIndex` falls inside a batch, or when the stream ends or goes idle.
 */
function samplePull(reader: StreamReader, endIndex: (from: number) => number, sampleId: string, idleFlushMs: number | undefined): SamplePull {
  let ended = false;
  let firstPull = true;
  let opened = false;
  let settle!: (s: PullSettlement) => void;
  const pull: { fedTo: number; consumed: number; settled: Promise<PullSettlement>; events: EventSource } = {
    fedTo: reader.i,
    consumed: 0,
    settled: new Promise<PullSettlement>((resolve) => (settle = resolve)),
    events: {
      open(signal) {
        if (opened) throw new Error(`${sampleId}: a live sample's events can be opened once`);
        opened = true;
        return {
          async next() {
            if (ended || signal.aborted) return DONE;
            const more = await reader.ensure(signal, idleFlushMs);
            if (signal.aborted) return DONE;
            if (more !== true) {
              ended = true; // the stream ended or went idle: the sample ends here
              return DONE;
            }
            const b = reader.current;
            const from = reader.i;
            // The sample's first event never ends it.
            const e = endIndex(firstPull ? from + 1 : from);
            firstPull = false;
            ended = e < b.length;
            pull.consumed += e - from;
            reader.i = e;
            pull.fedTo = e;
            return { done: false, value: sliceByIndex(b, from, e) };
          },
          settle: (s) => settle(s),
        };
      },
    },
  };
  return pull;
}

/** Drops the rest of a decided sample (to its end) from the stream, counting the events as skipped. */
async function skipToSampleEnd(reader: StreamReader, stream: AbortSignal, endIndex: (from: number) => number, stats: SegmentStats): Promise<void> {
  while ((await reader.ensure(stream)) === true) {
    const e = endIndex(reader.i);
    stats.skipped += e - reader.i;
    reader.i = e;
    if (e < reader.current.length) break;
  }
}

/**
 * One live stream's samples. Each sample's `events` can be opened once; its consumer must settle
 * the pull (the engine and `eventsOf` do) before the next sample is cut. Unsubscribing aborts the
 * stream's pull.
 */
export function segmentLive(source: EventSource, o: LiveSegmentOptions): Observable<Sample> {
  const seg = checkedSegmentation(o.segmentation ?? DEFAULT_LIVE_SEGMENTATION);
  const stats = o.stats ?? segmentStats();
  const onDecided = o.onDecided ?? 'next-sample';
  const maxDurationUs = o.maxDurationUs ?? Infinity;
  return new Observable<Sample>((subscriber) => {
    const streamControl = new AbortController();
    const stream = streamControl.signal;
    const detector = seg.kind === 'activity' ? new ActivityDetector(seg.windowUs, seg.threshold) : null;
    const reader = new StreamReader(source.open(stream), detector, o.onSampleStart !== undefined, o.resume);

    /** Where in the current batch, from `from`, the sample ending at `maxEnd` ends (the batch length if it goes on). */
    const endIndex = (from: number, maxEnd: number): number => {
      const batch = reader.current;
      if (seg.kind === 'activity') return activityEndIndex(batch, reader.scan as ActivityScan, from, seg.quietUs, maxEnd);
      let e = from;
      while (e < batch.length && batch.t[e] < maxEnd) e++;
      return e;
    };

    (async () => {
      let seq = o.resume?.sample ?? 0;
      let tumblingOrigin: number | undefined = o.resume?.tumblingOrigin;
      for (;;) {
        // 1. Where the next sample starts.
        if ((await reader.ensure(stream)) !== true) break;
        const batch = reader.current;
        let start = reader.i;
        if (seg.kind === 'activity') {
          const above = (reader.scan as ActivityScan).above;
          while (start < batch.length && above[start] === 0) start++;
          stats.unrouted += start - reader.i;
          reader.i = start;
          if (start === batch.length) continue;
        }
        const tStart = batch.t[start];
        let maxEnd = tStart + maxDurationUs;
        if (seg.kind === 'tumbling') {
          tumblingOrigin ??= tStart;
          const windowStart = tumblingOrigin + Math.floor((tStart - tumblingOrigin) / seg.durationUs) * seg.durationUs;
          maxEnd = windowStart + seg.durationUs;
        }
        o.onSampleStart?.({ batch, index: start, sample: seq, tStart, tumblingOrigin, detector: reader.before });
        stats.samples++;

        // 2. The sample pulls from the stream up to its end; its consumer settles what it used.
        const pull = samplePull(reader, (from) => endIndex(from, maxEnd), `${o.streamId}#${seq}`, o.idleFlushMs);
        const { events, settled } = pull;
        subscriber.next({ id: `${o.streamId}#${seq++}`, streamId: o.streamId, ...(o.label !== undefined ? { label: o.label } : {}), tStart, tEnd: Infinity, geometry: o.geometry, events });
        const done = await raceAbort(settled, stream);
        if (done === ABORTED) return;

        // 3. Events handed out but never binned go back to the stream.
        reader.i = pull.fedTo - done.unconsumed;
        stats.routed += pull.consumed - done.unconsumed;
        if (done.early) {
          stats.decided++;
          // The decided gesture's remaining events are counted as skipped, not cut into a next sample.
          if (onDecided === 'skip-to-window-end') await skipToSampleEnd(reader, stream, (from) => endIndex(from, maxEnd), stats);
        }
      }
      if (!stream.aborted) subscriber.complete();
    })().catch((err: unknown) => {
      if (!stream.aborted) subscriber.error(err);
    });
    return () => streamControl.abort();
  });
}
