import type { EventBatch } from './event-batch.js';


/**
 * Events as CSV lines `t,x,y,p` (t in integer µs, p 1 = ON, coordinates as decoded), without
 * the header. Built as one string per batch: fast enough for conversion, and never per event
 * objects.
 */
export function encodeCsvRows(batch: EventBatch): string {
  const lines = new Array<string>(batch.length);
  for (let i = 0; i < batch.length; i++) {
    lines[i] = `${Math.round(batch.t[i])},${batch.x[i]},${batch.y[i]},${batch.p[i]}`;
  }
  return batch.length > 0 ? lines.join('\n') + '\n' : '';
}
