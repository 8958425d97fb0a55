/**
 * A stream's entry in the streams bucket: the gateway that has its sensor writes it when the
 * sensor connects (`open`, after the connection's `open` marker is stored) and when it
 * disconnects (`closed`, with the sequence of the `end` marker); the worker that classified
 * everything up to that end writes `doneSeq` before it lets the stream go. Workers watch the
 * bucket to learn of streams, and take a stream that is open or not yet done.
 */
import type { Geometry } from '../events/geometry';

export interface StreamEntry {
  readonly connection: string;
  readonly gateway: string;
  readonly geometry: Geometry;
  readonly state: 'open' | 'closed';
  readonly openedAt: number;
  /** Sequence of the connection's `end` marker (closed). */
  readonly endSeq?: number;
  /** Last sequence a worker classified before releasing the stream. */
  readonly doneSeq?: number;
}

export function encodeStreamEntry(e: StreamEntry): string {
  return JSON.stringify(e);
}

/** The entry, or undefined for a value that is not one (a stream nobody can have work for). */
export function decodeStreamEntry(text: string): StreamEntry | undefined {
  try {
    const o = JSON.parse(text) as Partial<StreamEntry>;
    if (typeof o.connection !== 'string' || (o.state !== 'open' && o.state !== 'closed') || typeof o.geometry?.width !== 'number') return undefined;
    return o as StreamEntry;
  } catch {
    return undefined;
  }
}

/** True while some of the stream's messages may still need a worker. */
export function streamHasWork(e: StreamEntry): boolean {
  if (e.state === 'open') return true;
  return e.endSeq === undefined || e.doneSeq === undefined || e.doneSeq < e.endSeq;
}
