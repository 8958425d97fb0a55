/**
 * A raw event byte stream as a live input: what Prophesee's OpenEB writes to a recording path
 * that is a FIFO (`metavision_hal_showcase -o /tmp/cam.raw`: the `% …` header, then each USB
 * buffer as it arrives), or any EVT 2.0 / EVT 3.0 / AEDAT stream on stdin. The format comes from
 * the stream's header, read until the header is complete (or 64 KiB); the sensor size from the
 * header too (`% geometry WxH`, `% format EVT3;height=…;width=…`, AEDAT's source or XML).
 *
 * Bytes are decoded as they arrive (the decoders take chunks of any size). Bad bytes end the
 * stream with one line saying what and where (counted as a bad message); the stream's end (the
 * writer closed the FIFO) ends the input.
 */
import * as fs from 'fs';
import * as net from 'net';
import type { Readable } from 'stream';
import { promisify } from 'util';
import type { Observable } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { LiveInput, liveObservable, type LiveInputOptions } from './live-input';
import { createDecoder, DETECT_HEAD_BYTES, detectFormat, type EventDecoder } from './live-decoders';

export interface ReadableInputOptions extends LiveInputOptions {
  /** What notices call the stream (default `stdin` for process.stdin, else `<stream>`). */
  readonly name?: string;
}

const PERCENT = 0x25;
const HASH = 0x23;
const LF = 0x0a;

/**
 * True once `head` holds a whole header: a `% end` or `#!END-HEADER` line, or a complete line
 * after the header lines that starts with neither `%` nor `#` (the body), or the AEDAT 4.0 magic
 * line (its binary header follows), or a head with no header lines at all.
 */
export function headerComplete(head: Uint8Array): boolean {
  if (head.length === 0) return false;
  if (head[0] !== PERCENT && head[0] !== HASH) return true;
  let lineStart = 0;
  for (let i = 0; i < head.length; i++) {
    if (head[i] !== LF) continue;
    const line = new TextDecoder('latin1').decode(head.subarray(lineStart, i)).replace(/\r$/, '');
    if (line === '% end' || line === '#!END-HEADER' || line === '#!AER-DAT4.0') return true;
    lineStart = i + 1;
    if (lineStart < head.length && head[lineStart] !== PERCENT && head[lineStart] !== HASH) return true;
  }
  return false;
}

/** An open byte-stream input: reads `stream` until it ends or the input is closed. */
export class ReadableInput {
  readonly input: LiveInput;
  private head: Buffer[] = [];
  private headBytes = 0;
  private decoder: EventDecoder | undefined;
  private failed = false;

  private stream: Readable | undefined;

  /** `source`: the stream, or its opening (`openEventPath`: a FIFO opens once its writer does). */
  constructor(source: Readable | Promise<Readable>, o: ReadableInputOptions = {}) {
    const name = o.name ?? (source === process.stdin ? 'stdin' : '<stream>');
    this.input = new LiveInput(name, o, () => this.detach());
    Promise.resolve(source).then(
      (stream) => this.attach(stream),
      (err: Error) => this.fail(`cannot open: ${err.message}`),
    );
  }

  private attach(stream: Readable): void {
    this.stream = stream;
    // Closed while it was opening: release it at once.
    if (this.input.closed) return this.detach();
    stream.on('data', this.onData);
    stream.once('end', () => this.onEnd());
    stream.once('error', (err) => this.fail(`read failed: ${err.message}`));
  }

  private detach(): void {
    const stream = this.stream;
    if (!stream) return;
    stream.off('data', this.onData);
    // Never destroy the process's own stdin; any other stream (a FIFO, a file) is ours to close.
    if (stream !== process.stdin) stream.destroy();
    else stream.pause();
  }

  close(): void {
    this.input.close();
  }

  private readonly onData = (chunk: Buffer | string): void => {
    if (this.failed || this.input.closed) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    this.input.received(bytes.length);
    try {
      if (this.decoder === undefined) {
        this.head.push(bytes);
        this.headBytes += bytes.length;
        const head = Buffer.concat(this.head);
        if (!headerComplete(head) && head.length < DETECT_HEAD_BYTES) return;
        this.head = [];
        this.start(head);
        return;
      }
      this.deliver(this.decoder.push(bytes), bytes.length);
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
    }
  };

  private start(head: Uint8Array): void {
    const decoder = createDecoder(detectFormat(head.subarray(0, DETECT_HEAD_BYTES), this.input.name));
    this.decoder = decoder;
    this.input.notice(`${decoder.format} stream`);
    this.deliver(decoder.push(head), head.length);
  }

  private deliver(batch: EventBatch, bytes: number): void {
    const g = this.decoder?.geometry;
    if (g !== undefined) this.input.setGeometry(g);
    else if (batch.length > 0) throw new Error(`the ${this.decoder?.format} header gives no sensor size`);
    this.input.push(batch, bytes);
  }

  private onEnd(): void {
    if (this.failed || this.input.closed) return;
    try {
      if (this.decoder === undefined && this.headBytes > 0) this.start(Buffer.concat(this.head));
      if (this.decoder !== undefined) this.deliver(this.decoder.end(), 0);
    } catch (err) {
      this.fail(err instanceof Error ? err.message : String(err));
      return;
    }
    this.input.end();
  }

  private fail(why: string): void {
    if (this.failed) return;
    this.failed = true;
    this.input.badMessage();
    this.input.notice(`${why}: the stream ends`);
    this.input.close();
  }
}

const openFd = promisify(fs.open);

/**
 * A path as a byte stream: a FIFO is read as a pipe on the event loop (a `net.Socket` on its
 * descriptor: no thread-pool read per write of the camera, about 0.1 ms of CPU each), anything
 * else as a file. The promise settles once the FIFO's writer has opened it.
 */
export async function openEventPath(path: string): Promise<Readable> {
  if (!(await fs.promises.stat(path)).isFIFO()) return fs.createReadStream(path);
  return new net.Socket({ fd: await openFd(path, 'r'), readable: true, writable: false });
}

/** A raw EVT 2.0 / EVT 3.0 / AEDAT byte stream's events as an Observable (format and size from its header). */
export function fromReadable(stream: Readable | Promise<Readable>, o: ReadableInputOptions = {}): Observable<EventBatch> {
  return liveObservable(() => new ReadableInput(stream, o).input);
}
