/**
 * Re-renders a report's report.md and SVG figures from its report.json, without running the
 * networks again (after a change to the Markdown or the figures):
 *
 *   node dist/scripts/render-report.js models/gesture/report [more report dirs…]
 *
 * Figures that the current renderer no longer writes are removed from the folder. Prints one JSON
 * line per folder.
 */
import * as fs from 'fs';
import * as path from 'path';
import { readReportJson, writeReport } from '../src/eval/evaluate';

function main(dirs: string[]): void {
  if (dirs.length === 0) {
    process.stderr.write('usage: node dist/scripts/render-report.js REPORT_DIR [REPORT_DIR…]\n');
    process.exit(2);
  }
  for (const dir of dirs) {
    const results = readReportJson(path.join(dir, 'report.json'));
    const written = writeReport(dir, results);
    const keep = new Set(written.figures.map((f) => path.basename(f)));
    const removed: string[] = [];
    for (const f of fs.readdirSync(dir)) {
      // live-*.svg belong to the live report (live-report.ts), not to report.json.
      if (f.endsWith('.svg') && !f.startsWith('live-') && !keep.has(f)) {
        fs.rmSync(path.join(dir, f));
        removed.push(f);
      }
    }
    process.stdout.write(JSON.stringify({ dir, results: results.length, figures: written.figures.length, removed }) + '\n');
  }
}

main(process.argv.slice(2));
