/**
 * Where the bundled model and recording are, for the examples. The compiled examples live in
 * `dist/examples/`; this walks up from there to the folder that holds `models/gesture`, so it
 * also works from another build folder (and falls back to the working directory).
 */
import * as fs from 'fs';
import * as path from 'path';

function repoRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'models', 'gesture', 'spikestream.json'))) return dir;
    if (path.dirname(dir) === dir) return process.cwd();
  }
}

/** The bundled default model: 11-class DVS128-Gesture-layout QCFS SNN, T = 16, 100 ms bins. */
export const BUNDLED_MODEL = path.join(repoRoot(), 'models', 'gesture');
/** The bundled 28 s recording (AEDAT 3.1, 128×128) with 11 labelled gestures beside it. */
export const BUNDLED_RECORDING = path.join(repoRoot(), 'recordings', 'gestures', 'user30_natural.aedat');

/** `ws://host:port` from `http://host:port` (or a ws URL as is), without a trailing slash. */
export function wsBase(url: string): string {
  return url.replace(/^http(s?):/, 'ws$1:').replace(/\/+$/, '');
}
