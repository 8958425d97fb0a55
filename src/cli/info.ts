import type { Command } from 'commander';
import type { FormatName } from 'aedat-parser-ts';
import { summarizeEventFile, type EventFileSummary } from 'aedat-parser-ts/node';
import { displayPath, eventFileFormat } from './files';
import { fitAdvice, formatFitAdvice, type FitAdvice } from './fit-options';
import { defaultModelDir, readModelInput } from './model-options';
import { parseFormat } from './options';
import { formatBytes, formatCount, formatEventRate, printJson } from './output';

/** Formats whose files state no sensor size: the decoder's size is the format's fixed one. */
const HEADERLESS: ReadonlySet<FormatName> = new Set<FormatName>(['nmnist']);

function geometryText(s: EventFileSummary): string {
  if (!s.geometry) return 'unknown (no header size and no events)';
  const size = `${s.geometry.width}×${s.geometry.height}`;
  if (s.geometrySource === 'events') return `${size} (bounding box of the events; the file states no size)`;
  return `${size} (${HEADERLESS.has(s.format) ? `the ${s.format} format's fixed size` : 'from the header'})`;
}

export function register(program: Command): void {
  program
    .command('info')
    .description('format, geometry, event count, ON count, time range, duration and event rate of an event file, and the --fit a model would need')
    .argument('<file>', 'event file (AEDAT 2.0/3.1/4.0, N-MNIST .bin, Prophesee DAT/EVT 2.0/EVT 3.0)')
    .option('--format <name>', 'skip detection and decode as this format', parseFormat)
    .option('--model <dir>', 'the model to check the sensor size against (default: the bundled models/gesture)')
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts: { format?: FormatName; model?: string; json?: boolean }) => {
      const model = readModelInput(opts.model ?? displayPath(defaultModelDir()));
      const format = await eventFileFormat(file, opts.format);
      const s = await summarizeEventFile(file, { format });
      const fit: FitAdvice | undefined = s.geometry ? fitAdvice(s.geometry, model.target) : undefined;
      if (opts.json) {
        printJson({ ...s, modelFit: fit ? { model: model.dir, ...fit } : null });
        return;
      }
      const lines = [
        `file        ${s.path}`,
        `format      ${s.format}`,
        `size        ${formatBytes(s.sizeBytes)}`,
        `geometry    ${geometryText(s)}`,
        `events      ${formatCount(s.events)}`,
        `ON events   ${formatCount(s.onEvents)}${s.events > 0 ? ` (${((100 * s.onEvents) / s.events).toFixed(1)}%)` : ''}`,
        `first t     ${s.firstT === undefined ? '-' : `${formatCount(s.firstT)} µs`}`,
        `last t      ${s.lastT === undefined ? '-' : `${formatCount(s.lastT)} µs`}`,
        `duration    ${(s.durationUs / 1e6).toFixed(6)} s`,
        `event rate  ${s.durationUs > 0 ? formatEventRate(s.eventRatePerSecond) : '-'}`,
        `model fit   ${fit ? formatFitAdvice(fit, model.dir) : '-'}`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
