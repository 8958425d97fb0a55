/**
 * Long commands show progress with rate and ETA also when stderr is not a terminal (a log, CI, a
 * pipe), where a cli-progress bar draws nothing: plain lines, the first at once, then at most every
 * 10 s, and the last at the end.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { formatEta } from '../../src/cli/progress';
import { runSpikestream } from '../helpers/cli';
import { makeTempDir, repoRoot } from '../helpers/paths';

describe('cli progress when stderr is not a terminal', function () {
  this.timeout(180_000);
  let dir: string;
  before(() => (dir = makeTempDir()));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('formats an ETA as cli-progress does', () => {
    expect([formatEta(4.4), formatEta(250), formatEta(3 * 3600 + 120), formatEta(NaN), formatEta(-1)]).to.deep.equal(['4s', '4m 10s', '3h 02m', '?', '?']);
  });

  it('train prints plain progress lines with loss, rate and ETA', () => {
    const frames = path.join(dir, 'digits.ssf');
    const mnist = path.join(repoRoot, 'recordings', 'saccades', 'mnist');
    const f = runSpikestream(['frames', mnist, '--split', 'test', '--out', frames, '--bin-us', '25000', '--steps', '4']);
    expect(f.code, f.stderr).to.equal(0);
    expect(f.stderr, 'frames').to.match(/^frames \| 100% \| 10\/10 \| [\d.]+ samples\/s \| ETA 0s$/m);
    const r = runSpikestream(['train', '--data', frames, '--epochs', '1', '--batch', '4', '--out', path.join(dir, 'model')]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('epoch '));
    expect(lines.length, r.stderr).to.be.at.least(2);
    for (const l of lines) expect(l).to.match(/^epoch 1\/1 \| \d+% \| loss [\d.]+ \| acc [\d.]+ \| \d+ samples\/s \| ETA \S+/);
    expect(lines[lines.length - 1]).to.match(/^epoch 1\/1 \| 100% \|/);
  });
});
