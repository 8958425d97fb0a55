import type { OperatorFunction } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { batchFilter, countFiltered, gatherKept, type FilterStats } from './batch-filter';

export type Polarity = 'on' | 'off';

/** The events of one polarity (pure): 'on' keeps p != 0, 'off' keeps p == 0. */
export function filterPolarity(batch: EventBatch, polarity: Polarity, stats?: FilterStats): EventBatch {
  const n = batch.length;
  const want = polarity === 'on' ? 1 : 0;
  const p = batch.p;
  const keep = new Uint8Array(n);
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if ((p[i] !== 0 ? 1 : 0) === want) {
      keep[i] = 1;
      kept++;
    }
  }
  countFiltered(stats, n, kept);
  return gatherKept(batch, keep, kept);
}

/** Keeps only ON (`'on'`) or only OFF (`'off'`) events. */
export function polarityFilter(polarity: Polarity, stats?: FilterStats): OperatorFunction<EventBatch, EventBatch> {
  if (polarity !== 'on' && polarity !== 'off') throw new RangeError(`polarityFilter: expected 'on' or 'off', got ${String(polarity)}`);
  return batchFilter(() => (batch) => filterPolarity(batch, polarity, stats));
}
