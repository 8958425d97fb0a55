/**
 * Decoding a stream of byte chunks (a Node Readable, a fetch body, a File's stream, a socket's
 * messages: anything async-iterable): the format is detected from the first bytes unless given,
 * then every chunk goes through one incremental decoder as it arrives.
 */
import type { EventBatch } from './event-batch.js';
import type { EventDecoder, FormatName } from './decoder.js';
import { DETECT_HEAD_BYTES, detectFormat } from './detect.js';
import { attachFile } from './format-error.js';
import { createDecoder } from './registry.js';

export interface DecodeEventStreamOptions {
  /** Decode as this format. Without it the first 64 KiB (or the whole stream, if shorter) are held to detect it. */
  readonly format?: FormatName;
  /** The input's name: for detection (an N-MNIST `.bin` has no header) and in FormatErrors. */
  readonly name?: string;
  /** Called with the decoder once the stream has ended (geometry, bytes consumed, counters). */
  onEnd?(decoder: EventDecoder): void;
}

/**
 * The events of a stream of byte chunks, batch by batch as the chunks complete them (empty
 * batches are not yielded). Pulled: the next chunk is asked for only when the consumer asks for
 * the next batch. A FormatError carries `name` when one is given.
 */
export async function* decodeEventStream(chunks: AsyncIterable<Uint8Array>, options: DecodeEventStreamOptions = {}): AsyncGenerator<EventBatch, void, undefined> {
  const name = options.name ?? '<input>';
  try {
    let decoder = options.format === undefined ? undefined : createDecoder(options.format);
    const held: Uint8Array[] = [];
    let heldBytes = 0;
    for await (const chunk of chunks) {
      if (decoder) {
        const batch = decoder.push(chunk);
        if (batch.length > 0) yield batch;
        continue;
      }
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < DETECT_HEAD_BYTES) continue;
      decoder = createDecoder(detectFormat(joined(held, heldBytes), name));
      yield* pushAll(decoder, held.splice(0));
    }
    if (!decoder) {
      decoder = createDecoder(detectFormat(joined(held, heldBytes), name, heldBytes));
      yield* pushAll(decoder, held.splice(0));
    }
    const last = decoder.end();
    if (last.length > 0) yield last;
    options.onEnd?.(decoder);
  } catch (err) {
    throw options.name === undefined ? err : attachFile(err, options.name);
  }
}

function* pushAll(decoder: EventDecoder, chunks: readonly Uint8Array[]): Generator<EventBatch, void, undefined> {
  for (const chunk of chunks) {
    const batch = decoder.push(chunk);
    if (batch.length > 0) yield batch;
  }
}

function joined(parts: readonly Uint8Array[], bytes: number): Uint8Array {
  if (parts.length === 1) return parts[0];
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
