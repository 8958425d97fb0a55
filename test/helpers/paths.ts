import * as fs from 'fs';
import * as path from 'path';

/** The repository root: tests run with it as the working directory (`npm test`). */
export const repoRoot = process.cwd();

/** `../shared` beside the repository (override with SPIKESTREAM_SHARED). */
export const sharedDir = process.env.SPIKESTREAM_SHARED ?? path.resolve(repoRoot, '..', 'shared');

export function sharedRecording(name: string): string {
  const p = path.join(sharedDir, 'recordings', name);
  if (!fs.existsSync(p)) throw new Error(`missing shared recording ${p} (is ../shared beside the repository?)`);
  return p;
}

export function readSharedRecording(name: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(sharedRecording(name)));
}

/** A fresh temporary directory under the OS temp dir, removed by the caller's `after` hook. */
export function makeTempDir(prefix = 'spikestream-test-'): string {
  return fs.mkdtempSync(path.join(require('os').tmpdir(), prefix));
}
