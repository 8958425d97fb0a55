import type { Command } from 'commander';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import { Aedat31Writer, Aedat4Writer, csvHeader, encodeCsvRows, type FormatName } from 'aedat-parser-ts';
import { eventFileGeometry, readEventFile } from 'aedat-parser-ts/node';
import { UsageError } from './errors';
import { eventFileFormat, requireOutputFile } from './files';
import { parseChoice, parseFormat } from './options';
import { formatCount, printJson } from './output';

export type OutputKind = 'aedat3' | 'aedat4' | 'aedat4-lz4' | 'csv';

/** A writer as the converter sees it: a header, bytes per batch, and trailing bytes. */
interface ByteSink {
  header(): Uint8Array | string;
  encode(batch: EventBatch): Uint8Array | string;
  finish(): Uint8Array | string;
}

export function outputKindFor(file: string, compression?: string): OutputKind {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.aedat') return 'aedat3';
  if (ext === '.aedat4') {
    if (compression === undefined || compression === 'lz4') return 'aedat4-lz4';
    if (compression === 'none') return 'aedat4';
    throw new UsageError(`--compression must be none or lz4 for .aedat4, got '${compression}'`);
  }
  if (ext === '.csv') return 'csv';
  throw new UsageError(`cannot tell the output format from '${file}': use .aedat (AEDAT 3.1), .aedat4 or .csv`);
}

function makeSink(kind: OutputKind, geometry: Geometry): ByteSink {
  switch (kind) {
    case 'aedat3': {
      const w = new Aedat31Writer({ geometry });
      return { header: () => w.header(), encode: (b) => w.encode(b), finish: () => new Uint8Array(0) };
    }
    case 'aedat4':
    case 'aedat4-lz4': {
      const w = new Aedat4Writer({ geometry, compression: kind === 'aedat4' ? 'none' : 'lz4' });
      return { header: () => w.header(), encode: (b) => w.encode(b), finish: () => w.finish() };
    }
    case 'csv':
      return { header: () => csvHeader(geometry), encode: encodeCsvRows, finish: () => '' };
  }
}

export interface ConvertResult {
  input: string;
  inputFormat: string;
  output: string;
  outputFormat: OutputKind;
  geometry: Geometry;
  events: number;
  bytesWritten: number;
  /** y was mirrored (y' = height − 1 − y) to go from a lower-left origin to the output's upper-left one. */
  yFlipped: boolean;
}

/** Input formats whose y axis points up (origin lower-left); every format we write has its origin upper-left. */
const LOWER_LEFT_ORIGIN: ReadonlySet<FormatName> = new Set<FormatName>(['aedat2']);

/** The batch mirrored vertically: y' = height − 1 − y (x, p and t shared with the input). */
export function flipY(batch: EventBatch, height: number): EventBatch {
  const y = new Uint16Array(batch.length);
  for (let i = 0; i < batch.length; i++) y[i] = Math.max(0, height - 1 - batch.y[i]);
  return { ...batch, y };
}

/**
 * Converts an event file; the output's extension chooses the writer. The geometry comes from the
 * header, or from a first pass when the format does not state it. Input with a lower-left origin
 * (AEDAT 2.0) is flipped to the writers' upper-left origin unless `keepY`.
 */
export async function convertEventFile(input: string, output: string, opts: { format?: FormatName; compression?: string; keepY?: boolean } = {}): Promise<ConvertResult> {
  const kind = outputKindFor(output, opts.compression);
  const inputFormat = await eventFileFormat(input, opts.format);
  requireOutputFile(output);
  // The header's sensor size when it states one; otherwise a first pass finds the events' bounding box.
  const geometry = (await eventFileGeometry(input, { format: inputFormat })) ?? { width: 1, height: 1 };
  const sink = makeSink(kind, geometry);
  const yFlipped = LOWER_LEFT_ORIGIN.has(inputFormat) && !opts.keepY;
  const tmp = `${output}.partial`;
  const fh = await fsp.open(tmp, 'w');
  let bytesWritten = 0;
  let events = 0;
  const write = async (data: Uint8Array | string) => {
    if (data.length === 0) return;
    const { bytesWritten: n } = typeof data === 'string' ? await fh.write(data) : await fh.write(data);
    bytesWritten += n;
  };
  try {
    await write(sink.header());
    for await (const batch of readEventFile(input, { format: inputFormat })) {
      events += batch.length;
      await write(sink.encode(yFlipped ? flipY(batch, geometry.height) : batch));
    }
    await write(sink.finish());
  } catch (err) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await fsp.rename(tmp, output);
  return { input, inputFormat, output, outputFormat: kind, geometry, events, bytesWritten, yFlipped };
}

export function register(program: Command): void {
  program
    .command('convert')
    .description("convert an event file; OUT's extension chooses the writer: .aedat (AEDAT 3.1), .aedat4 (LZ4 by default), .csv (t,x,y,p); all have their origin upper-left, so AEDAT 2.0 input (lower-left) is flipped in y unless --keep-y")
    .argument('<in>', 'input event file')
    .argument('<out>', 'output file')
    .option('--format <name>', 'skip detection and decode the input as this format', parseFormat)
    .option('--compression <c>', 'AEDAT 4.0 output compression: lz4 (default) or none', parseChoice('--compression', ['lz4', 'none'] as const))
    .option('--keep-y', "keep the input's raw y even where its origin differs from the output's (AEDAT 2.0 is lower-left)")
    .option('--json', 'print one JSON object')
    .action(async (input: string, output: string, opts: { format?: FormatName; compression?: string; keepY?: boolean; json?: boolean }) => {
      const r = await convertEventFile(input, output, opts);
      if (opts.json) printJson(r);
      else process.stdout.write(`${r.input} (${r.inputFormat}) → ${r.output} (${r.outputFormat}): ${formatCount(r.events)} events, ${formatCount(r.bytesWritten)} B${r.yFlipped ? `; y flipped (${r.inputFormat}'s origin is lower-left; --keep-y keeps it)` : ''}\n`);
    });
}
