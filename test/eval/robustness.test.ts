import { expect } from 'chai';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { traceFromArrays } from '../../src/confidence/trace';
import { evaluateRobustness, scoreTrace } from '../../src/eval/robustness';
import { robustnessSvg, robustnessTable, writeRobustnessReport } from '../../src/eval/robustness-report';

describe('eval/robustness', function () {
  this.timeout(180_000);

  it('scoreTrace: accuracy at T, the DC decision at the first step past θ, steps, confident share and ECE', () => {
    // Two samples, T = 3: the first passes θ = 0.5 at step 2 (right), the second never does (wrong at T).
    const trace = traceFromArrays(Float32Array.from([0.2, 0.6, 0.9, 0.1, 0.3, 0.4]), Int32Array.from([0, 1, 1, 2, 2, 3]), [1, 2], 3);
    const s = scoreTrace(trace, 0.5, 3);
    expect(s.accT).to.equal(0.5);
    expect(s.accDc).to.equal(0.5);
    expect(s.meanSteps).to.equal(2.5);
    expect(s.confidentShare).to.equal(0.5);
    expect(s.accConfident).to.equal(1);
    expect(s.ece).to.be.closeTo((Math.abs(1 - 0.6) + Math.abs(0 - 0.4)) / 2, 1e-6);
    expect(s.savingPct).to.be.closeTo(100 * (1 - 2.5 / 3), 1e-9);
    // The calibrated rule stops at q ≥ θ: at θ = 0.6 (as stored, float32) the first sample stops at step 2, not 3.
    const theta = Math.fround(0.6);
    expect(scoreTrace(trace, theta, 3, 'calibrated').meanSteps).to.equal(2.5);
    expect(scoreTrace(trace, theta, 3, 'paper').meanSteps).to.equal(3);
  });

  it('renders perturbed held-out recordings, scores the bundled model on them and writes the report', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spikestream-robust-'));
    try {
      const r = await evaluateRobustness('models/gesture', { cacheDir: tmp, subjects: 1, lightings: 1, perturbations: ['none', 'polarity-swap'] });
      expect(r.rows.map((x) => x.perturbation)).to.deep.equal(['none', 'polarity-swap']);
      for (const x of r.rows) expect(x.n).to.equal(13);
      expect(fs.existsSync(path.join(tmp, 'polarity-swap', 'user24_fluorescent.aedat'))).to.equal(true);
      const again = await evaluateRobustness('models/gesture', { cacheDir: tmp, subjects: 1, lightings: 1, perturbations: ['polarity-swap'] });
      expect(again.rows[0]).to.deep.equal(r.rows[1]);
      expect(robustnessTable(r)).to.match(/\| polarity-swap \| 13 \|/);
      expect(robustnessSvg(r, again)).to.match(/^<svg[\s\S]*<\/svg>\n$/);
      const files = writeRobustnessReport(path.join(tmp, 'report'), r);
      expect(fs.readFileSync(files.markdown, 'utf8')).to.include('robustness.svg');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
