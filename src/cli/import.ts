/**
 * `spikestream import MODEL.onnx --out DIR` — a QCFS network trained in PyTorch and exported to ONNX
 * becomes a spikestream model directory (see src/snn/model/onnx/import.ts and
 * docs/bring-your-own-model.md). ONNX does not carry the class names, the time bin, T or the
 * downsampling: --classes, --bin-ms, --steps and --downsample (or --sensor) give them.
 *
 *   spikestream import net.onnx --out models/mine [--classes a,b,c | --classes names.txt] [--bin-ms 100]
 *                      [--steps 16] [--downsample 4 | --sensor 128x128] [--mode qcfs|qffs] [--json]
 *
 * A construct spikestream cannot run is refused with one line (node, op, why, what to change): exit 1.
 */
import type { Command } from 'commander';
import * as fs from 'fs';
import * as path from 'path';
import { saveModel } from '../snn/model/model-file';
import { importOnnx, type ImportSummary } from '../snn/model/onnx/import';
import { UsageError } from './errors';
import { positiveInt } from './calibrate';
import { checkNumber } from './options';
import { printJson } from './output';

interface ImportCliOptions { out: string; classes?: string; binMs: string; steps: string; downsample?: string; sensor: string; mode: string; json?: boolean }

/** Class names from a comma-separated list or a file with one name per line. */
export function parseClasses(v: string): string[] {
  const fromFile = fs.existsSync(v) && fs.statSync(v).isFile();
  const names = (fromFile ? fs.readFileSync(v, 'utf8').split(/\r?\n/) : v.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  if (names.length < 2) throw new UsageError(`--classes: need at least 2 class names (got ${names.length} from ${fromFile ? `file ${v}` : `'${v}'`})`);
  return names;
}

function parseSensor(v: string): { width: number; height: number } {
  const m = /^(\d+)x(\d+)$/i.exec(v.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) throw new UsageError(`--sensor must be WIDTHxHEIGHT, e.g. 128x128 (got '${v}')`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function describe(s: ImportSummary, dir: string): string {
  const a = s.activations;
  return [
    `imported ${s.source} (${s.producer || 'unknown producer'}, opset ${s.opset}) → ${dir}`,
    `input 2×${s.input.height}×${s.input.width} (batch ${typeof s.input.batch === "number" ? s.input.batch : `dynamic, "${s.input.batch}"`})${s.input.scale !== 1 ? `, scaled by ${s.input.scale}` : ''}`,
    ...s.layers.map((l) => `  ${l}`),
    `QCFS activations: ${a.count}, found as ${a.ops.join(' → ')}; L = ${a.levels}, shift ${a.shift}: ${a.shiftMeaning}`,
    `BatchNorm folded: ${s.batchNormsFolded}; classes: ${s.classes}; binning: ${s.binning.binUs! / 1000} ms × T = ${s.binning.T}, downsample ${s.binning.downsample}`,
    `next: spikestream calibrate --model ${dir} --val VAL.ssf`,
  ].join('\n') + '\n';
}

export function register(program: Command): void {
  program
    .command('import')
    .description('import a QCFS network trained in PyTorch (ONNX export) as a spikestream model')
    .argument('<model.onnx>', 'the ONNX file (torch.onnx.export(net, x, path, dynamo=False, opset_version=17))')
    .requiredOption('--out <dir>', 'model directory to write')
    .option('--classes <names>', 'class names, comma-separated, or a file with one per line (default 0, 1, …)')
    .option('--bin-ms <ms>', 'time bin per step in ms (the bundled gesture model: 100)', '100')
    .option('--steps <T>', 'steps per sample T (the bundled gesture model: 16)', '16')
    .option('--downsample <f>', 'sensor → input downsample factor (default: from --sensor and the input size)')
    .option('--sensor <WxH>', 'the sensor the model reads, to derive --downsample', '128x128')
    .option('--mode <mode>', 'default conversion: qcfs | qffs', 'qcfs')
    .option('--json', 'print the import summary as one JSON object')
    .action((file: string, o: ImportCliOptions) => {
      if (!fs.existsSync(file)) throw new UsageError(`${file} does not exist`);
      if (o.mode !== 'qcfs' && o.mode !== 'qffs') throw new UsageError(`--mode must be qcfs or qffs (got '${o.mode}')`);
      const binMs = checkNumber('--bin-ms', Number(o.binMs), { above: 0 }, o.binMs);
      const result = importOnnx(fs.readFileSync(file), {
        source: path.basename(file),
        classes: o.classes === undefined ? undefined : parseClasses(o.classes),
        binMs, steps: positiveInt('--steps', o.steps),
        downsample: o.downsample === undefined ? undefined : positiveInt('--downsample', o.downsample),
        sensor: parseSensor(o.sensor), mode: o.mode,
      });
      saveModel(o.out, result);
      if (o.json) printJson({ out: path.resolve(o.out), ...result.summary });
      else process.stdout.write(describe(result.summary, o.out));
    });
}
