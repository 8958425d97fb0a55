import * as fs from 'fs';
import * as path from 'path';

/** The repository root: tests run with it as the working directory (`npm test`). */
export const repoRoot = process.cwd();

/** `../shared` beside the repository (override with SPIKESTREAM_SHARED). */
export const sharedDir = process.env.SPIKESTREAM_SHARED ?? path.resolve(repoRoot, '..', 'shared');

/** Why a real-file test failed when ../shared is not there (the one line `npm test` also prints first). */
export const SHARED_MISSING =
  "../shared/recordings is missing: it holds real DVS recordings made by others (AEDAT 2.0/3.1/4.0, N-MNIST, Prophesee DAT/EVT) that only the real-file tests read";

/**
 * The path of a real recording under ../shared. It never throws, so that a suite without
 * ../shared still loads and runs every other test; using the path fails the test that needs it.
 */
export function sharedRecording(name: string): string {
  return path.join(sharedDir, 'recordings', name);
}

export function readSharedRecording(name: string): Uint8Array {
  const p = sharedRecording(name);
  if (!fs.existsSync(p)) throw new Error(fs.existsSync(path.join(sharedDir, 'recordings')) ? `missing shared recording ${p}` : `${SHARED_MISSING} (${p})`);
  return new Uint8Array(fs.readFileSync(p));
}

/** A fresh temporary directory under the OS temp dir, removed by the caller's `after` hook. */
export function makeTempDir(prefix = 'spikestream-test-'): string {
  return fs.mkdtempSync(path.join(require('os').tmpdir(), prefix));
}
