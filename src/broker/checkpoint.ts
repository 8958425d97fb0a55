/**
 * A stream's checkpoint: where its classification stands, stored in the checkpoint bucket
 * (one JSON value per stream) and written only by the stream's lease holder, compare-and-set
 * on the value's revision.
 *
 * It names the first event not covered by a decided sample: the start of the first sample whose
 * decision is not yet stored — message `seq` of the events stream, event `resume.index` of it,
 * with the live segmenter's state there (`LiveResume`) — or, between two sensor connections, the
 * next message to read (`resume` absent). A worker that takes the stream over resumes exactly
 * there; the samples after it are classified again and give the same decisions, which JetStream
 * stores once (same message ids).
 */
import type { Geometry } from '../events/geometry';
import type { ActivitySnapshot } from '../../streams/core/activity-detector';

export interface CheckpointResume {
  /** The sensor connection the sample belongs to, and its sensor size. */
  readonly connection: string;
  readonly geometry: Geometry;
  /** Index of the sample's first event in message `seq` (after the fit, if any). */
  readonly index: number;
  readonly tumblingOrigin?: number;
  readonly detector?: ActivitySnapshot;
}

export interface StreamCheckpoint {
  readonly v: 1;
  /** Stream sequence of the message to read from (0: the stream's first message). */
  readonly seq: number;
  /** Number of the next sample (sample ids count on across connections: `<stream>#<n>`). */
  readonly sample: number;
  /** Present when `seq` holds the start of sample `sample` in the middle of a connection. */
  readonly resume?: CheckpointResume;
  /** The worker that wrote it, and whether it still works on the stream ('owned') or gave it up. */
  readonly owner: string;
  readonly state: 'owned' | 'released';
  /** The writer's task on that worker (tells its own write from another's after a lost answer). */
  readonly task?: string;
  /** Wall-clock ms of the write (for people reading the bucket). */
  readonly at: number;
}

/** A checkpoint value that cannot be read: named with the stream and what is wrong. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}

export function initialCheckpoint(owner: string): StreamCheckpoint {
  return { v: 1, seq: 0, sample: 0, owner, state: 'owned', at: Date.now() };
}

/** JSON, with the detector's −Infinity ("never at the level") as null. */
export function encodeCheckpoint(cp: StreamCheckpoint): string {
  return JSON.stringify(cp, (_k, v: unknown) => (v === -Infinity ? null : v));
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

function decodeResume(r: unknown, where: string): CheckpointResume {
  const o = r as Record<string, unknown> | null;
  const g = o?.geometry as Record<string, unknown> | undefined;
  if (!o || typeof o.connection !== 'string' || !isCount(o.index) || !g || !isCount(g.width) || !isCount(g.height)) {
    throw new CheckpointError(`${where}: resume needs connection, geometry and index`);
  }
  if (o.tumblingOrigin !== undefined && typeof o.tumblingOrigin !== 'number') throw new CheckpointError(`${where}: tumblingOrigin is not a number`);
  let detector: ActivitySnapshot | undefined;
  if (o.detector !== undefined) {
    const d = o.detector as { times?: unknown; quietFrom?: unknown };
    if (!Array.isArray(d.times) || !d.times.every((t) => typeof t === 'number') || !(d.quietFrom === null || typeof d.quietFrom === 'number')) {
      throw new CheckpointError(`${where}: detector needs times (numbers) and quietFrom`);
    }
    detector = { times: d.times as number[], quietFrom: d.quietFrom ?? -Infinity };
  }
  return {
    connection: o.connection,
    geometry: { width: g.width, height: g.height },
    index: o.index,
    ...(o.tumblingOrigin !== undefined ? { tumblingOrigin: o.tumblingOrigin } : {}),
    ...(detector ? { detector } : {}),
  };
}

/** Reads a stored checkpoint; throws `CheckpointError` naming the stream and the fault. */
export function decodeCheckpoint(text: string, streamId: string): StreamCheckpoint {
  const where = `checkpoint of stream '${streamId}'`;
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new CheckpointError(`${where}: not JSON`);
  }
  if (o?.v !== 1) throw new CheckpointError(`${where}: unknown version ${String(o?.v)}`);
  if (!isCount(o.seq) || !isCount(o.sample)) throw new CheckpointError(`${where}: seq and sample must be counts`);
  if (typeof o.owner !== 'string' || (o.state !== 'owned' && o.state !== 'released')) throw new CheckpointError(`${where}: owner and state (owned|released) needed`);
  return {
    v: 1,
    seq: o.seq,
    sample: o.sample,
    ...(o.resume !== undefined ? { resume: decodeResume(o.resume, where) } : {}),
    owner: o.owner,
    state: o.state,
    ...(typeof o.task === 'string' ? { task: o.task } : {}),
    at: typeof o.at === 'number' ? o.at : 0,
  };
}
