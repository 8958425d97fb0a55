/**
 * Measures the walk of one sensor message to a subscriber's decision: which code runs it, and how
 * often it crosses between `src/server` and `streams/`. Two stacks are caught on a running
 * service: where the message's batch enters the stream's bounded queue, and where its decision
 * is written to a subscriber socket. Between the two the stream's engine pulls the queue and
 * steps the SNN asynchronously; the second stack starts where that resumed. Used by
 * `test/architecture/crossings.test.ts` and `scripts/architecture.ts`.
 */
import { Session } from 'inspector/promises';
import * as path from 'path';
import { lastValueFrom, take, toArray } from 'rxjs';
import WebSocket from 'ws';
import { BoundedEventQueue } from '../../streams/core/bounded-queue';
import { encodeEventMessage } from '../../src/formats/wire';
import { readEventFile } from 'aedat-parser-ts/node';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { startService } from '../../src/server/service';
import { concatBatches } from '../../src/events/event-batch';
import { repoRoot } from './paths';
import { waitFor } from './time';

/** The two rooms the walk is counted between. */
export type WalkRoom = 'src/server' | 'streams';

/** The repository file (under src/, streams/ or index.ts) of each frame of `stack`, outermost call first; compiled `dist/` paths mapped back. */
export function stackFiles(stack: string): string[] {
  const files: string[] = [];
  for (const line of stack.split('\n')) {
    const m = /\(?((?:\/|[A-Za-z]:\\)[^():]+):\d+:\d+\)?\s*$/.exec(line.trim());
    if (!m) continue;
    const rel = path.relative(repoRoot, m[1]).split(path.sep).join('/');
    const file = rel.replace(/^dist\//, '').replace(/\.js$/, '.ts');
    // The project's own code only: not node_modules, not the test code that caught the stack.
    if (/^(src|streams)\//.test(file) || file === 'index.ts') files.push(file);
  }
  return files.reverse();
}

/** The room of a repository file on the walk, or undefined for code that is neither (src/snn, src/formats, …). */
export function walkRoom(file: string): WalkRoom | undefined {
  if (file.startsWith('src/server/')) return 'src/server';
  if (file.startsWith('streams/')) return 'streams';
  return undefined;
}

/** How often a walk changes room (consecutive frames of one room are one stay). */
export function crossings(walk: readonly WalkRoom[]): number {
  let n = 0;
  for (let i = 1; i < walk.length; i++) if (walk[i] !== walk[i - 1]) n++;
  return n;
}

export interface WalkMeasure {
  /** src/server and streams/ frames in order: the accepted sensor socket, the message's entry, the decision's exit, the subscriber socket. */
  readonly walk: WalkRoom[];
  readonly crossings: number;
  /** Repository files on the stack where the batch entered the queue, outermost first. */
  readonly entry: string[];
  /** … and where the decision was written to the subscriber, outermost first. */
  readonly exit: string[];
  /**
   * Every `src/server` function that ran from the message's send until the service saw its
   * decision, `file:function ×calls` (V8's precise coverage): the hooks the streams side calls and
   * that return (counters, the rate limiter), and the metrics counted after the write.
   */
  readonly serverCalls: string[];
}

/** The walk of `files` through the two rooms, with both sockets counted as the server's (it accepted them). */
export function walkOf(entry: readonly string[], exit: readonly string[]): WalkRoom[] {
  const rooms = [...entry, ...exit].map(walkRoom).filter((r): r is WalkRoom => r !== undefined);
  return ['src/server', ...rooms, 'src/server'];
}

/** The `src/server` functions `run` called, with their call counts, read from V8's precise coverage. */
async function serverCallsDuring(run: () => Promise<void>): Promise<string[]> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true });
    await session.post('Profiler.takePreciseCoverage'); // resets the counts: only `run` is counted
    await run();
    const { result } = await session.post('Profiler.takePreciseCoverage');
    const calls: string[] = [];
    for (const script of result) {
      const file = script.url.startsWith('file://') ? stackFiles(`at ${new URL(script.url).pathname}:1:1`)[0] : undefined;
      if (file === undefined || walkRoom(file) !== 'src/server') continue;
      for (const f of script.functions) {
        const count = f.ranges[0]?.count ?? 0;
        if (count > 0) calls.push(`${file}:${f.functionName || '(anonymous)'} ×${count}`);
      }
    }
    return calls.sort();
  } finally {
    await session.post('Profiler.stopPreciseCoverage').catch(() => undefined);
    session.disconnect();
  }
}

/**
 * Runs the bundled gesture model as a one-thread service, sends the bundled recording's first
 * second as one wire message, and catches the two stacks of its first decision.
 */
export async function measureWebSocketWalk(): Promise<WalkMeasure> {
  const model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
  const batches = [];
  let events = 0;
  for await (const b of readEventFile(path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat'))) {
    batches.push(b);
    events += b.length;
    if (events > 200_000) break;
  }
  const message = encodeEventMessage(concatBatches(batches), { width: 128, height: 128 });
  let entry: string | undefined;
  let exit: string | undefined;
  let serverCalls: string[] = [];
  const push = BoundedEventQueue.prototype.push;
  const send = WebSocket.prototype.send;
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = Infinity;
  BoundedEventQueue.prototype.push = function (this: BoundedEventQueue, ...args: Parameters<typeof push>) {
    entry ??= new Error().stack;
    return push.apply(this, args);
  };
  WebSocket.prototype.send = function (this: WebSocket, ...args: Parameters<typeof send>) {
    if (typeof args[0] === 'string' && args[0].startsWith('{"type":"decision"')) exit ??= new Error().stack;
    return send.apply(this, args);
  } as typeof send;
  const service = await startService({ model, port: 0, runner: 'typed', idleFlushMs: 200 });
  try {
    const wsBase = service.address.url.replace(/^http/, 'ws');
    const subscriber = new WebSocket(`${wsBase}/decisions`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => subscriber.once('open', resolve).once('error', reject));
    const decided = lastValueFrom(service.decisions.pipe(take(1), toArray()));
    const sensor = new WebSocket(`${wsBase}/ingest/walk?width=128&height=128`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => sensor.once('open', resolve).once('error', reject));
    serverCalls = await serverCallsDuring(async () => {
      sensor.send(message);
      await decided;
    });
    await waitFor(() => exit !== undefined, 5000, 'the decision written to the subscriber');
    sensor.close();
    subscriber.close();
  } finally {
    BoundedEventQueue.prototype.push = push;
    WebSocket.prototype.send = send;
    Error.stackTraceLimit = limit;
    await service.stop(500);
  }
  if (entry === undefined || exit === undefined) throw new Error('the walk was not caught: no batch queued or no decision sent');
  const entryFiles = stackFiles(entry);
  const exitFiles = stackFiles(exit);
  const walk = walkOf(entryFiles, exitFiles);
  return { walk, crossings: crossings(walk), entry: entryFiles, exit: exitFiles, serverCalls };
}
