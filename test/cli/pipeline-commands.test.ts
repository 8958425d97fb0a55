import { expect } from 'chai';
import * as path from 'path';
import { runSpikestream } from '../helpers/cli';
import { repoRoot } from '../helpers/paths';

const recording = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');

describe('spikestream replay / start / serve / sensor', function () {
  this.timeout(120_000);

  it('replay FILE with a labels CSV beside it: one decision per label window and a summary (NDJSON)', () => {
    const r = runSpikestream(['replay', recording, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const decisions = lines.filter((l) => l.type === 'decision');
    const summary = lines.find((l) => l.type === 'summary');
    expect(decisions).to.have.length(11);
    for (const d of decisions) {
      expect(d.steps).to.be.within(1, d.maxSteps);
      expect(d.trueLabel).to.be.a('number');
      expect(d.eventTimeUs).to.be.greaterThan(d.sampleStartUs);
    }
    expect(summary.decisions).to.equal(11);
    expect(summary.accuracy).to.be.at.least(0.8);
    expect(summary.stepsSavedPct).to.be.greaterThan(40);
    expect(summary.stepsSaved).to.equal(decisions.filter((d) => d.early).reduce((a, d) => a + d.maxSteps - d.steps, 0));
  });

  it('replay DATASET (a DVS128-Gesture-layout folder) prints readable decisions and the summary', () => {
    const r = runSpikestream(['replay', path.dirname(recording), '--split', 'test', '--theta', '0.9', '--alpha', '12', '--tau', '1']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('α = 12, τ = 1.000');
    expect(r.stdout).to.match(/user30_natural#0\b/);
    // θ = 0.9: answers are the confident decisions; accuracy is over them, uncertain ones are counted apart.
    expect(r.stdout).to.match(/decisions\s+11: (\d+) answers \(\d+ early\), (\d+) uncertain \(\d+\.\d%, not answers\)/);
    const [, answers, uncertain] = /decisions\s+11: (\d+) answers \(\d+ early\), (\d+) uncertain/.exec(r.stdout)!;
    expect(Number(answers) + Number(uncertain)).to.equal(11);
    if (Number(answers) > 0) expect(r.stdout).to.match(new RegExp(`accuracy\\s+\\d+\\.\\d+% of ${answers} labelled answers`));
    expect(r.stdout).to.match(/θ\s+0\.9 \(override\)/);
  });

  it('replay rejects bad options and a model that does not fit the sensor', () => {
    expect(runSpikestream(['replay', recording, '--theta', '1.5']).code).to.equal(2);
    expect(runSpikestream(['replay', recording, '--realtime', '--speed', '2']).code).to.equal(2);
    expect(runSpikestream(['replay', recording, '--mode', 'lif']).code).to.equal(2);
    expect(runSpikestream(['replay', recording, '--alpha', '0']).code).to.equal(2);
    const misfit = runSpikestream(['replay', path.join(repoRoot, 'recordings', 'saccades', 'mnist')]);
    expect(misfit.code).to.equal(2);
    expect(misfit.stderr).to.contain('34×34');
    expect(misfit.stderr).to.contain('--fit pad');
  });

  it('replay --steps at an uncalibrated T says so and does not reuse θ, α, τ from another T', () => {
    const r = runSpikestream(['replay', recording, '--steps', '8', '--limit', '2', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stderr).to.match(/^note: --steps 8: .* no calibration at T = 8 \(it was calibrated for T = 16\); α = 8 \(the QCFS rule\), τ = 1 and no θ/m);
    const ds = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; early?: boolean; maxSteps?: number });
    expect(ds.filter((d) => d.type === 'decision').every((d) => d.early === false && d.maxSteps === 8)).to.equal(true);
    const same = runSpikestream(['replay', recording, '--steps', '16', '--limit', '1', '--json']);
    expect(same.stderr).to.not.contain('note:');
  });

  it('start names the θ its live streams stop at: the live one (the model line and the summary agree)', () => {
    const r = runSpikestream(['start', '--once', '--asap']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = `${r.stderr}\n${r.stdout}`.split('\n');
    const modelLine = lines.find((l) => l.startsWith('model '));
    const summaryTheta = lines.find((l) => l.startsWith('θ '));
    expect(modelLine, r.stderr).to.match(/θ = [\d.]+ \(.*scored with the live calibration/);
    const value = (l: string | undefined) => /θ = ([\d.]+)/.exec(l ?? '')?.[1];
    expect(value(modelLine)).to.equal(value(summaryTheta));
  });

  it('start --once: serves, feeds the bundled recording as a live sensor, prints decisions and the summary', () => {
    const r = runSpikestream(['start', '--once', '--speed', '20', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const summary = lines.find((l) => l.type === 'summary');
    expect(lines.filter((l) => l.type === 'decision').length).to.equal(summary.decisions);
    expect(summary.decisions).to.be.greaterThan(10);
    // The service's live streams (DEFAULT_ON_DECIDED): some decisions early, saving steps, most right.
    expect(summary.earlyDecisions).to.be.greaterThan(0);
    expect(summary.stepsSaved).to.be.greaterThan(0);
    expect(summary.accuracy).to.be.greaterThan(0.5);
  });

  it('serve and sensor refuse unsafe or malformed settings', () => {
    const s = runSpikestream(['serve', '--host', '0.0.0.0']);
    expect(s.code).to.equal(2);
    expect(s.stderr).to.contain('needs a token');
    expect(runSpikestream(['sensor', recording, '--url', 'localhost:1']).code).to.equal(2);
  });
});
