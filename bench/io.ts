/**
 * `npm run bench:io [-- --events N --runs R --keep]`: decoding speed per format.
 * - real files from ../shared/recordings, decoded from memory in 64 KiB chunks;
 * - large generated files (AEDAT 3.1, AEDAT 2.0, EVT 2.0: N events, default 50 M; LZ4 AEDAT 4.0: N/2)
 *   decoded from disk with readEventFile in a child process, which reports its peak RSS.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DEFAULT_CHUNK_BYTES, readEventFile } from 'aedat-parser-ts/node';
import { createDecoder, detectFormat } from 'aedat-parser-ts';
import { argValue, machine, median, printFigures, type BenchFigure } from './common';
import { writeAedat2, writeAedat3, writeAedat4Lz4, writeEvt2 } from './gen-files';

async function child(file: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  let events = 0;
  for await (const b of readEventFile(file)) events += b.length;
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ events, seconds, maxRssMiB: process.resourceUsage().maxRSS / 1024 }) + '\n');
}

function decodeFromMemory(bytes: Uint8Array, name: string): { events: number; seconds: number } {
  const format = detectFormat(bytes.subarray(0, 65536), name, bytes.length);
  const t0 = process.hrtime.bigint();
  const dec = createDecoder(format);
  let events = 0;
  for (let at = 0; at < bytes.length; at += DEFAULT_CHUNK_BYTES) events += dec.push(bytes.subarray(at, at + DEFAULT_CHUNK_BYTES)).length;
  events += dec.end().length;
  return { events, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const childFile = argValue(args, '--child');
  if (childFile) return child(childFile);
  const events = Number(argValue(args, '--events') ?? 50_000_000);
  const runs = Number(argValue(args, '--runs') ?? 3);
  const figures: BenchFigure[] = [];
  const m = machine();
  const rate = (ev: number, s: number) => ev / s / 1e6;

  const recDir = path.resolve(process.cwd(), '..', 'shared', 'recordings');
  if (fs.existsSync(recDir)) {
    for (const name of fs.readdirSync(recDir).filter((f) => /\.(aedat4?|bin|dat|raw)$/.test(f))) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(recDir, name)));
      const rates: number[] = [];
      let n = 0;
      for (let r = 0; r < Math.max(5, runs); r++) {
        // Repeat small files so each measurement lasts long enough to time.
        let ev = 0;
        let s = 0;
        do {
          const d = decodeFromMemory(bytes, name);
          ev += d.events;
          s += d.seconds;
          n = d.events;
        } while (s < 0.2 && n > 0);
        if (n > 0) rates.push(rate(ev, s));
      }
      if (n === 0) continue;
      const v = median(rates);
      process.stdout.write(`${name.padEnd(48)} ${String(n).padStart(9)} events  ${v.toFixed(1).padStart(6)} M events/s (from memory, median of ${rates.length})\n`);
      figures.push({ name: `decode ${name}`, unit: 'M events/s', value: +v.toFixed(2), backend: 'js', machine: m });
    }
  }

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spikestream-bench-io-'));
  try {
    const gens: [string, string, number, (f: string, n: number) => Promise<void>][] = [
      ['aedat3', 'big.aedat', events, writeAedat3],
      ['aedat2', 'big2.aedat', events, writeAedat2],
      ['evt2', 'big.raw', events, writeEvt2],
      ['aedat4-lz4', 'big.aedat4', Math.ceil(events / 2), writeAedat4Lz4],
    ];
    for (const [format, fileName, n, write] of gens) {
      const file = path.join(tmp, fileName);
      const tw = Date.now();
      await write(file, n);
      const size = fs.statSync(file).size;
      process.stdout.write(`generated ${fileName}: ${n} events, ${(size / 2 ** 20).toFixed(0)} MiB in ${((Date.now() - tw) / 1000).toFixed(1)} s\n`);
      const results: { events: number; seconds: number; maxRssMiB: number }[] = [];
      for (let r = 0; r < runs; r++) {
        const c = spawnSync(process.execPath, [__filename, '--child', file], { encoding: 'utf8', maxBuffer: 1 << 20 });
        if (c.status !== 0) throw new Error(`child failed on ${file}: ${c.stderr}`);
        results.push(JSON.parse(c.stdout.trim().split('\n').pop() ?? '{}'));
      }
      if (results.some((r) => r.events !== n)) throw new Error(`${fileName}: decoded ${results.map((r) => r.events)} events, expected ${n}`);
      const v = median(results.map((r) => rate(r.events, r.seconds)));
      const rss = Math.max(...results.map((r) => r.maxRssMiB));
      process.stdout.write(
        `${format.padEnd(12)} ${fileName.padEnd(12)} ${v.toFixed(1).padStart(6)} M events/s from disk (median of ${runs}), peak RSS ${rss.toFixed(0)} MiB for a ${(size / 2 ** 20).toFixed(0)} MiB file\n`,
      );
      figures.push({ name: `decode ${format} file`, unit: 'M events/s', value: +v.toFixed(2), backend: 'js', machine: m, events: n, fileMiB: +(size / 2 ** 20).toFixed(1) });
      figures.push({ name: `decode ${format} peak RSS`, unit: 'MiB', value: +rss.toFixed(1), backend: 'js', machine: m });
      if (!args.includes('--keep')) fs.rmSync(file);
    }
  } finally {
    if (!args.includes('--keep')) fs.rmSync(tmp, { recursive: true, force: true });
  }
  printFigures('io', figures);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
