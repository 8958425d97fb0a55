import type { Command } from 'commander';
import { promises as fsp } from 'fs';
import * as path from 'path';
import type { EventBatch } from '../events/event-batch';
import type { Geometry } from '../events/geometry';
import { Aedat31Writer } from '../formats/aedat3-writer';
import { Aedat4Writer } from '../formats/aedat4';
import { CSV_HEADER, encodeCsvRows } from '../formats/csv-writer';
import { detectFileFormat, eventFileGeometry, readEventFile } from '../formats/read-file';
import { isFormatName } from '../formats/registry';
import { printJson, UsageError } from './output';

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
      return { header: () => CSV_HEADER, encode: encodeCsvRows, finish: () => '' };
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
}

/** Converts an event file; the output's extension chooses the writer. The geometry comes from the header, or from a first pass when the format does not state it. */
export async function convertEventFile(input: string, output: string, opts: { format?: string; compression?: string } = {}): Promise<ConvertResult> {
  if (opts.format !== undefined && !isFormatName(opts.format)) throw new UsageError(`unknown format '${opts.format}'`);
  const format = opts.format;
  const kind = outputKindFor(output, opts.compression);
  const inputFormat = format ?? (await detectFileFormat(input));
  // The header's sensor size when it states one; otherwise a first pass finds the events' bounding box.
  const geometry = (await eventFileGeometry(input, { format: inputFormat })) ?? { width: 1, height: 1 };
  const sink = makeSink(kind, geometry);
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
      await write(sink.encode(batch));
    }
    await write(sink.finish());
  } catch (err) {
    await fh.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  await fsp.rename(tmp, output);
  return { input, inputFormat, output, outputFormat: kind, geometry, events, bytesWritten };
}

export function register(program: Command): void {
  program
    .command('convert')
    .description("convert an event file; OUT's extension chooses the writer: .aedat (AEDAT 3.1), .aedat4 (LZ4 by default), .csv (t,x,y,p)")
    .argument('<in>', 'input event file')
    .argument('<out>', 'output file')
    .option('--format <name>', 'skip detection and decode the input as this format')
    .option('--compression <c>', 'AEDAT 4.0 output compression: lz4 (default) or none')
    .option('--json', 'print one JSON object')
    .action(async (input: string, output: string, opts: { format?: string; compression?: string; json?: boolean }) => {
      const r = await convertEventFile(input, output, opts);
      if (opts.json) printJson(r);
      else process.stdout.write(`${r.input} (${r.inputFormat}) → ${r.output} (${r.outputFormat}): ${r.events} events, ${r.bytesWritten} B\n`);
    });
}
