/**
 * The real recordings the tests read: `../shared/recordings` beside the repository (tests run
 * with the repository root as the working directory; override with SPIKESTREAM_SHARED). They
 * are made by others and never copied into the repository.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** `../shared` beside the repository (override with SPIKESTREAM_SHARED). */
export const sharedDir = process.env.SPIKESTREAM_SHARED ?? path.resolve(process.cwd(), '..', 'shared');

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
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
