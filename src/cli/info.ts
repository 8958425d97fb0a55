import type { Command } from 'commander';
import { summarizeEventFile } from '../formats/read-file';
import { isFormatName } from '../formats/registry';
import { printJson, UsageError } from './output';

export function register(program: Command): void {
  program
    .command('info')
    .description('format, geometry, event count, ON count, time range, duration and event rate of an event file')
    .argument('<file>', 'event file (AEDAT 2.0/3.1/4.0, N-MNIST .bin, Prophesee DAT/EVT 2.0/EVT 3.0)')
    .option('--format <name>', 'skip detection and decode as this format')
    .option('--json', 'print one JSON object')
    .action(async (file: string, opts: { format?: string; json?: boolean }) => {
      if (opts.format !== undefined && !isFormatName(opts.format)) throw new UsageError(`unknown format '${opts.format}'`);
      const s = await summarizeEventFile(file, { format: opts.format });
      if (opts.json) {
        printJson(s);
        return;
      }
      const geom = s.geometry ? `${s.geometry.width}×${s.geometry.height} (${s.geometrySource === 'header' ? 'from header' : 'bounding box of events'})` : 'unknown';
      const lines = [
        `file        ${s.path}`,
        `format      ${s.format}`,
        `size        ${s.sizeBytes} B`,
        `geometry    ${geom}`,
        `events      ${s.events}`,
        `ON events   ${s.onEvents}${s.events > 0 ? ` (${((100 * s.onEvents) / s.events).toFixed(1)}%)` : ''}`,
        `first t     ${s.firstT ?? '-'} µs`,
        `last t      ${s.lastT ?? '-'} µs`,
        `duration    ${(s.durationUs / 1e6).toFixed(6)} s`,
        `event rate  ${(s.eventRatePerSecond / 1e6).toFixed(4)} Mev/s`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
