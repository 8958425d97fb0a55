/**
 * The suite's own output stays free of the TF.js backend banner: library code that logs it (initBackend's
 * default) must be given a quiet `log` by the tests that start a backend in process. Everything this
 * process writes to stderr while the suite runs is watched from load time; the root `after` hook fails
 * on a banner, naming it.
 */
import { expect } from 'chai';

const banners: string[] = [];
const writeStderr = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  if (/TF\.js backend/.test(text)) banners.push(text.trim());
  return (writeStderr as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;

describe('test output', () => {
  it('watches stderr for the TF.js backend banner from load time to the end of the suite', () => {
    expect(process.stderr.write).to.not.equal(writeStderr);
  });
});

after('no TF.js backend banner in the suite output', () => {
  expect(banners, 'a test started a TF.js backend without a quiet log').to.deep.equal([]);
});
