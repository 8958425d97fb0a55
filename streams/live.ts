import { Observable } from 'rxjs';
import { sliceByIndex, type EventBatch } from '../src/events/event-batch';
import type { Geometry } from '../src/events/geometry';
import type { ClassifierModel } from './classifier-model';
import { ActivityDetector, activityEndIndex, type ActivityScan } from './operators/activity-detector';
import { runSampleFrames, sampleCursor, type ClassifiedDecision, type ClassifyOptions, type CursorFeeder } from './operators/classify';
import type { OnDecided, SegmentStats } from './operators/sample-feed';
import { segmentStats } from './operators/sample-feed';
import { toPulledIterator } from './sources/pull';

export type LiveSegmentation =
  | { readonly kind: 'activity'; readonly windowUs: number; readonly threshold: number; readonly quietUs: number }
  | { readonly kind: 'tumbling'; readonly durationUs: number };

/** Default live segmentation: a sample starts when ≥ 150 events fall in 50 ms (3 kev/s) and ends after 300 ms below that. */
export const DEFAULT_LIVE_SEGMENTATION: LiveSegmentation = { kind: 'activity', windowUs: 50_000, threshold: 150, quietUs: 300_000 };

export interface LiveStreamOptions extends Omit<ClassifyOptions, 'model'> {
  readonly model: ClassifierModel;
  readonly segmentation?: LiveSegmentation;
  /** After a decision: start the next sample at once (default) or skip to the window's end. */
  readonly onDecided?: OnDecided;
  readonly segmentStats?: SegmentStats;
  /**
   * A sensor that sends nothing for this many wall-clock ms ends the sample in progress (its
   * open bin is emitted and the sample decided), so a silent sensor still gets its answer. Off
   * by default: it makes decisions depend on arrival timing whenever a stream stalls that long.
   */
  readonly idleFlushMs?: number;
}

/** A read position over a pulled stream of batches, with the activity detector's view of each batch. */
class StreamReader {
  batch: EventBatch | null = null;
  scan: ActivityScan | null = null;
  i = 0;
  private done = false;

  constructor(
    private readonly events: AsyncIterator<EventBatch>,
    private readonly detector: ActivityDetector | null,
  ) {}

  private pending: Promise<IteratorResult<EventBatch>> | null = null;

  /**
   * True when an event is available at `i`, pulling batches as needed; false at the stream's end;
   * 'idle' when `idleMs` of wall time passed without a batch (the pull stays pending for the next call).
   */
  async ensure(idleMs?: number): Promise<boolean | 'idle'> {
    while (this.batch === null || this.i >= this.batch.length) {
      if (this.done) return false;
      this.pending ??= this.events.next();
      let r: IteratorResult<EventBatch>;
      if (idleMs === undefined) r = await this.pending;
      else {
        let timer: NodeJS.Timeout | undefined;
        const idle = new Promise<'idle'>((resolve) => (timer = setTimeout(() => resolve('idle'), idleMs)));
        const got = await Promise.race([this.pending, idle]);
        clearTimeout(timer);
        if (got === 'idle') return 'idle';
        r = got;
      }
      this.pending = null;
      if (r.done) {
        this.done = true;
        this.batch = null;
        return false;
      }
      if (r.value.length === 0) continue;
      this.batch = r.value;
      // The detector sees every event once, in order: its verdicts depend on the events alone.
      this.scan = this.detector ? this.detector.scan(r.value) : null;
      this.i = 0;
    }
    return true;
  }

}

/**
 * One live sensor stream → decisions, deterministically. Samples are cut by activity (a sample
 * starts at the event that brings the rate to the level and ends after a quiet gap, or after
 * T·bin) or by tumbling windows. Each sample is classified with Dynamic Confidence in a slot of
 * the shared batched runner. The stream is read through a pulled iterator and binned lazily, so
 * when a sample is decided at step k the events after frame k are exactly the ones not yet
 * binned: with `onDecided: 'next-sample'` (default) the next sample starts from the first of them
 * (if the rate there is at the level), with 'skip-to-window-end' they are skipped (and counted)
 * until the sample would have ended. Decisions therefore depend only on the events, not on how
 * they were split into messages or on how many streams share the runner.
 */
export function classifyLiveStream(streamId: string, geometry: Geometry, events: Observable<EventBatch>, o: LiveStreamOptions): Observable<ClassifiedDecision> {
  return new Observable<ClassifiedDecision>((subscriber) => {
    let cancelled = false;
    const iterator = toPulledIterator(events, { maxBuffered: o.maxBufferedBatches ?? 65536, stats: o.stats?.buffer });
    runLiveStream(streamId, geometry, iterator, o, (d) => subscriber.next(d), () => cancelled).then(
      () => {
        if (!cancelled) subscriber.complete();
      },
      (err: unknown) => {
        if (!cancelled) subscriber.error(err);
      },
    );
    return () => {
      cancelled = true;
      void iterator.return?.().catch(() => undefined);
    };
  });
}

async function runLiveStream(
  streamId: string,
  geometry: Geometry,
  events: AsyncIterator<EventBatch>,
  o: LiveStreamOptions,
  emit: (d: ClassifiedDecision) => void,
  cancelled: () => boolean,
): Promise<void> {
  const { model, scheduler } = o;
  const seg = o.segmentation ?? DEFAULT_LIVE_SEGMENTATION;
  const segStats = o.segmentStats ?? segmentStats();
  const onDecided = o.onDecided ?? 'next-sample';
  const maxSteps = o.maxSteps ?? model.maxSteps;
  const stepSpanUs = model.binUs !== undefined ? model.binUs * maxSteps : Infinity;
  const detector = seg.kind === 'activity' ? new ActivityDetector(seg.windowUs, seg.threshold) : null;
  const reader = new StreamReader(events, detector);
  let seq = 0;
  let tumblingOrigin: number | undefined;
  try {
    for (;;) {
      // 1. Where the next sample starts.
      if ((await reader.ensure()) !== true || cancelled()) return;
      const batch = reader.batch as EventBatch;
      let start = reader.i;
      if (seg.kind === 'activity') {
        const above = (reader.scan as ActivityScan).above;
        while (start < batch.length && above[start] === 0) start++;
        segStats.unrouted += start - reader.i;
        reader.i = start;
        if (start === batch.length) continue;
      }
      const tStart = batch.t[start];
      let tEnd = Infinity;
      let maxEnd = tStart + stepSpanUs;
      if (seg.kind === 'tumbling') {
        tumblingOrigin ??= tStart;
        const k = Math.floor((tStart - tumblingOrigin) / seg.durationUs);
        const windowStart = tumblingOrigin + k * seg.durationUs;
        tEnd = windowStart + seg.durationUs;
        maxEnd = tEnd;
      }
      const sample = { id: `${streamId}#${seq++}`, streamId, tStart, tEnd, geometry };
      segStats.samples++;
      if (o.stats) o.stats.samples++;

      // 2. Feed the sample's events to a lazy cursor until its end condition or its decision.
      const slot = await scheduler.admit();
      if (cancelled()) {
        scheduler.release(slot);
        return;
      }
      const cursor = sampleCursor(model, geometry, sample, o);
      let fedTo = reader.i; // reader index just past the last event handed to the cursor
      let ended = false; // the end condition was met at `fedTo`
      let consumed = 0;
      let firstFeed = true;
      const feed: CursorFeeder = async (c) => {
        const more = ended ? false : await reader.ensure(o.idleFlushMs);
        if (more !== true) {
          c.end();
          return !cancelled();
        }
        if (cancelled()) return false;
        const b = reader.batch as EventBatch;
        const from = reader.i;
        // The sample's first event never ends it.
        const e = sampleEndIndex(reader, seg, firstFeed ? from + 1 : from, maxEnd);
        firstFeed = false;
        ended = e < b.length;
        c.feed(sliceByIndex(b, from, e));
        consumed += e - from;
        reader.i = e;
        fedTo = e;
        return true;
      };
      let run;
      try {
        run = await runSampleFrames(sample, slot, cursor, feed, o, cancelled);
      } finally {
        scheduler.release(slot);
      }
      if (!run) return; // cancelled
      // Events handed to the cursor but never binned go back to the stream.
      const giveBack = cursor.unconsumed;
      reader.i = fedTo - giveBack;
      consumed -= giveBack;
      segStats.routed += consumed;
      if (run.decision) {
        if (o.stats) o.stats.eventsConsumed += consumed;
        emit({ ...run.decision, eventsConsumed: consumed });
      }
      if (run.early) {
        segStats.decided++;
        if (onDecided === 'skip-to-window-end') await skipToEnd(reader, seg, maxEnd, segStats);
      }
    }
  } finally {
    void events.return?.().catch(() => undefined);
  }
}

/** Where in the reader's current batch, from `from`, the current sample ends (its length if it goes on). */
function sampleEndIndex(reader: StreamReader, seg: LiveSegmentation, from: number, maxEnd: number): number {
  const batch = reader.batch as EventBatch;
  if (seg.kind === 'activity') return activityEndIndex(batch, reader.scan as ActivityScan, from, seg.quietUs, maxEnd);
  let e = from;
  while (e < batch.length && batch.t[e] < maxEnd) e++;
  return e;
}

/** After an early decision: skip (and count) events until the sample would have ended. */
async function skipToEnd(reader: StreamReader, seg: LiveSegmentation, maxEnd: number, stats: SegmentStats): Promise<void> {
  while ((await reader.ensure()) === true) {
    const e = sampleEndIndex(reader, seg, reader.i, maxEnd);
    stats.skipped += e - reader.i;
    reader.i = e;
    if (e < (reader.batch as EventBatch).length) return;
  }
}
