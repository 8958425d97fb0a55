import { from, type Observable } from 'rxjs';
import { gestureFileIndex, type LabelWindow } from '../../src/datasets/dvs-gesture';
import { lowerBoundTime, sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import type { Geometry } from '../../src/events/geometry';
import { readAedat3Window, readEventFile, type ReadEventFileOptions } from 'aedat-parser-ts/node';
import { sourceFromIterator, type EventSource } from '../core/event-source';
import type { Sample } from '../types';
import { paceBatches } from './from-event-file';
import { ASAP, Pacer, type Pacing } from './pacing';

/** The events of [tStart, tEnd) from any recorded file: read from the start, stop past the window. */
async function* windowOfFile(file: string, tStart: number, tEnd: number, o: ReadEventFileOptions): AsyncGenerator<EventBatch, void, undefined> {
  for await (const b of readEventFile(file, o)) {
    const n = b.length;
    if (n === 0 || b.t[n - 1] < tStart) continue;
    const from = lowerBoundTime(b, tStart);
    const to = lowerBoundTime(b, tEnd);
    if (to > from) yield sliceByIndex(b, from, to);
    if (to < n) return;
  }
}

export interface WindowSamplesOptions extends ReadEventFileOptions {
  readonly streamId: string;
  readonly geometry: Geometry;
  readonly pacing?: Pacing;
}

/**
 * One Sample per label window of a recorded file. Each window's events are a pulled source of
 * its own (windows may overlap and are classified side by side): an AEDAT 3.1 file (give
 * `format: 'aedat3'`) is read by seeking to the window's packets, any other format from its start. With pacing, every window
 * shares one clock anchored at the earliest window, so windows unfold as in the recording.
 */
export function windowSamples(file: string, windows: readonly LabelWindow[], o: WindowSamplesOptions): Observable<Sample> {
  const pacing = o.pacing ?? ASAP;
  const pacer = new Pacer(pacing);
  if (windows.length > 0) pacer.delayMs(Math.min(...windows.map((w) => w.tStart)));
  const read = (w: LabelWindow): AsyncIterable<EventBatch> => {
    if (o.format === 'aedat3') {
      return (async function* () {
        yield* readAedat3Window(file, await gestureFileIndex(file, { onBytesRead: o.onBytesRead }), w.tStart, w.tEnd, { onBytesRead: o.onBytesRead });
      })();
    }
    return windowOfFile(file, w.tStart, w.tEnd, o);
  };
  const samples = windows.map((w, i): Sample => {
    const events: EventSource = sourceFromIterator(() => paceBatches(read(w), pacer)[Symbol.asyncIterator]());
    return { id: w.id ?? `${o.streamId}#${i}`, streamId: o.streamId, ...(w.label !== undefined ? { label: w.label } : {}), tStart: w.tStart, tEnd: w.tEnd, geometry: o.geometry, events };
  });
  return from(samples);
}
