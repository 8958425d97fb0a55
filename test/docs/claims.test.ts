/**
 * What the docs promise about the command line, checked against what it does: each case pairs the
 * sentence a user reads with a run that shows it (a doc that drifts from the code fails here).
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { runSpikestream } from '../helpers/cli';
import { repoRoot } from '../helpers/paths';

const doc = (name: string): string => fs.readFileSync(path.join(repoRoot, 'docs', name), 'utf8').replace(/\s+/g, ' ');
const RECORDING = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');

describe('docs against behaviour', function () {
  this.timeout(120_000);

  it("--steps T' at an uncalibrated T': nothing carries over, no early decision without --theta, a note says so", () => {
    expect(doc('cli.md')).to.contain("at an uncalibrated T' nothing carries over — α is the QCFS/QFFS rule's for T', τ = 1 and there is no θ, so no decision is early unless you give `--theta`");
    const r = runSpikestream(['replay', RECORDING, '--steps', '8', '--json', '--threads', '1']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/note: --steps 8: .* has no calibration at T = 8 .* no θ: no early decisions unless you give --theta/);
    const decisions = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; early?: boolean; maxSteps?: number }).filter((d) => d.type === 'decision');
    expect(decisions.length).to.be.greaterThan(0);
    expect(decisions.every((d) => d.early === false && d.maxSteps === 8)).to.equal(true);
  });

  it('evaluate --live without --model uses the bundled gesture model (docs/cli.md)', () => {
    expect(doc('cli.md')).to.contain('stream whole recordings live (with the bundled gesture model unless `--model`;');
    const help = runSpikestream(['evaluate', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).to.contain('with --live the default is the bundled gesture model');
  });
});
