import { expect } from 'chai';
import { fitAlpha } from '../../src/confidence/confidence';
import { renderMarkdown } from '../../src/confidence/markdown';
import { plotAccuracyConfidence, plotAccuracySteps, plotTerminationHistogram, plotThetaGrid, renderPlots } from '../../src/confidence/plots';
import {
  analyzeTrace,
  decisionLatencies,
  downsampleCurve,
  latencyStats,
  percentile,
  spikesPerNeuron,
  terminationHistogram,
  type EvaluationResult,
} from '../../src/confidence/report';
import { noLossStatement, wilson } from '../../src/confidence/stats';
import { chooseThetaByRule, thetaOutcome } from '../../src/confidence/theta-rules';
import { traceFromOutputs } from '../../src/confidence/trace';
import { checkXml, gaussian, mulberry32 } from './helpers';

/** A synthetic SNN run: cumulative outputs whose signal grows with t, N×T×C. */
function syntheticRun(seed: number, n: number, T: number, C: number) {
  const rand = mulberry32(seed);
  const out = new Float32Array(n * T * C);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = Math.floor(rand() * C);
    const margin = 0.2 + rand() * 2; // easy and hard samples
    const acc = new Float64Array(C);
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < C; k++) acc[k] += (k === labels[i] ? margin : 0) + gaussian(rand) * 1.5;
      out.set(acc, (i * T + t) * C);
    }
  }
  return { out, labels };
}

describe('report and plots', () => {
  const T = 16;
  const C = 11;
  const { out, labels } = syntheticRun(3, 600, T, C);
  const trace = traceFromOutputs(out, labels, T, C, T, 1);
  const traceNoAlpha = traceFromOutputs(out, labels, T, C, 1, 1);
  const a = analyzeTrace(trace, { traceNoAlpha });

  it('helpers: histogram, spikes per neuron, percentiles, latencies', () => {
    const h = terminationHistogram([1, 1, 3, 4], 4);
    expect(h.counts).to.deep.equal([2, 0, 1, 1]);
    expect(h.cumulative).to.deep.equal([0.5, 0.5, 0.75, 1]);
    // 2 samples × 3 steps, 10 neurons.
    const spikes = new Float32Array([10, 20, 30, 5, 5, 5]);
    expect(spikesPerNeuron(spikes, 3, 10)).to.be.closeTo((60 + 15) / 2 / 10, 1e-12);
    expect(spikesPerNeuron(spikes, 3, 10, [1, 2])).to.be.closeTo((10 + 10) / 2 / 10, 1e-12);
    expect(percentile([1, 2, 3, 4, 5], 50)).to.equal(3);
    expect(percentile([0, 10], 95)).to.be.closeTo(9.5, 1e-12);
    expect(Array.from(decisionLatencies([1, 3], 4, 25))).to.deep.equal([25, 75]);
    expect(Array.from(decisionLatencies([2, 1], 2, new Float64Array([10, 30, 7, 9])))).to.deep.equal([30, 7]);
    expect(latencyStats([1, 2, 3]).mean).to.equal(2);
  });

  it('analyzeTrace: α keeps confidence from saturating; chosen θ loses no accuracy', () => {
    const noA = a.perStep.meanConfidenceNoAlpha!;
    expect(noA[T - 1]).to.be.greaterThan(a.perStep.meanConfidenceAlpha[T - 1]);
    expect(a.chosen.accuracy).to.be.at.least(a.accSnnT);
    expect(a.chosen.meanSteps).to.be.lessThan(T);
    expect(a.latencySavingPct).to.be.greaterThan(0);
    expect(a.oracles.firstCorrect.meanSteps).to.be.at.most(a.oracles.staysCorrect.meanSteps);
    expect(a.oracles.staysCorrect.accuracy).to.be.closeTo(a.accSnnT, 1e-12);
    const sum = a.terminationHistogram.counts.reduce((x, y) => x + y, 0);
    expect(sum).to.equal(600);
    // Applying the chosen θ to the same trace reproduces it.
    const again = analyzeTrace(trace, { theta: a.chosen.theta });
    expect(again.chosen.meanSteps).to.equal(a.chosen.meanSteps);
    expect(downsampleCurve(a.curve, 50).length).to.be.at.most(50);
    // α measured from outputs vs logits: here the "ANN logits" are the mean output.
    const lastO = new Float32Array(600 * C);
    const z = new Float32Array(600 * C);
    for (let i = 0; i < 600; i++) {
      for (let k = 0; k < C; k++) {
        lastO[i * C + k] = out[(i * T + T - 1) * C + k];
        z[i * C + k] = lastO[i * C + k] / T;
      }
    }
    expect(fitAlpha(lastO, z, C)).to.be.closeTo(T, 1e-3);
  });

  function result(): EvaluationResult {
    return {
      model: 'tiny-cnn <test> & co',
      dataset: 'synthetic',
      mode: 'QCFS',
      backend: 'cpu',
      T,
      bits: 2,
      alpha: T,
      tau: 1.3,
      n: 600,
      split: 'validation',
      thetaChosenOn: 'validation',
      calibration: { nllBefore: 0.5, nllAfter: 0.4, eceBefore: 0.08, eceAfter: 0.02 },
      accAnn: 0.9,
      accSnnT: a.accSnnT,
      dc: { theta: a.chosen.theta, accuracy: a.chosen.accuracy, meanSteps: a.chosen.meanSteps, earlyFraction: a.chosen.earlyFraction },
      latencySavingPct: a.latencySavingPct,
      oracles: a.oracles,
      wallMsPerInference: { without: 12.5, with: 6.1 },
      spikesPerNeuron: { without: 3.02, with: 1.29 },
      decisionLatencyMs: { without: { mean: 400, p95: 400 }, with: { mean: 180, p95: 350 } },
      perStep: a.perStep,
      curve: { points: downsampleCurve(a.curve, 300), pareto: a.pareto, grid: a.grid },
      chosen: a.chosen,
      terminationHistogram: a.terminationHistogram,
      deployed: true,
      matched: { annPrefixMean: a.perStep.accuracy.map((x) => x * 0.95), annEnsemble: a.perStep.accuracy, agreementPerStep: a.perStep.accuracy.map(() => 0.9) },
      conversionCheck: { T, n: 600, correctAnn: 540, correctSnn: 546, agree: 555, accAnn: 0.9, accSnn: 0.91, agreement: 0.925 },
      uncertainty: {
        accAnn: wilson(540, 600),
        accSnnT: wilson(Math.round(a.accSnnT * 600), 600),
        dc: wilson(Math.round(a.chosen.accuracy * 600), 600),
        dcVsFullT: dc.comparison,
        noLoss: noLossStatement(dc.comparison),
      },
      thetaRules: [paper, robust].map((c) => {
        const t = thetaOutcome(trace, c.theta, { resamples: 200 });
        const v = c.validation;
        return {
          rule: c.rule,
          grid: c.grid,
          tolerance: c.tolerance,
          theta: c.theta,
          deployed: c.rule === 'paper',
          validation: { accuracy: v.accuracy, meanSteps: v.meanSteps, accuracyDiff: v.comparison.accuracyDiff, mcnemarP: v.comparison.mcnemar.p },
          test: { accuracy: t.accuracy, meanSteps: t.meanSteps, accuracyDiff: t.comparison.accuracyDiff, meanStepsInterval: t.comparison.meanSteps, mcnemarP: t.comparison.mcnemar.p },
        };
      }),
      notes: ['synthetic data'],
    };
  }
  const dc = thetaOutcome(trace, a.chosen.theta, { resamples: 200 });
  const paper = chooseThetaByRule(trace, 'paper', { bootstrap: { resamples: 200 } });
  const robust = chooseThetaByRule(trace, 'non-inferior', { bootstrap: { resamples: 200 } });

  it('Markdown contains the paper-style tables', () => {
    const md = renderMarkdown(result(), { figures: { accuracySteps: 'fig1.svg', thetaGrid: 'fig3.svg' } });
    expect(md).to.contain('| Model | Method | Acc(ANN)(%) | Acc(SNN)(%) | Averaged time steps | Latency saving(%) |');
    // Intervals on accuracies, the paired comparison, matched baselines, conversion check, θ rules.
    expect(md).to.contain('| tiny-cnn <test> & co | QCFS | 90.00 [87.3, 92.2] |');
    expect(md).to.contain('## Does Dynamic Confidence lose accuracy? (95 % intervals)');
    expect(md).to.contain(noLossStatement(dc.comparison));
    expect(md).to.contain('## Matched baselines');
    expect(md).to.contain('## Conversion check — constant input');
    expect(md).to.contain('| mean of frames 1..16, at every step | 90.00 [87.3, 92.2] | 91.00 [88.4, 93.0] | 92.50 [90.1, 94.3] |');
    expect(md).to.contain('## θ rules — chosen on validation, checked on this split');
    expect(md).to.match(/\| no loss \| (yes|no) \| (yes|no) \|/);
    expect(md).to.match(/\| loss < 1\.00 points \| (yes|no) \| (yes|no) \|/);
    expect(md).to.contain("paper (deployed), paper's 0.1 grid, ε = 0.0 points");
    expect(md).to.contain('| 0.95 | extension |');
    expect(md).to.contain('| 0.50 | paper |');
    expect(md).to.contain('(the stored operating point)');
    expect(md).to.contain('QCFS + Dynamic Confidence');
    expect(md).to.contain('## Table 2');
    expect(md).to.contain('| tiny-cnn <test> & co | cpu | 12.500 | 6.100 | 2.05× |');
    expect(md).to.contain('## Table 3');
    expect(md).to.contain('| tiny-cnn <test> & co, QCFS | 3.02 | 1.29 |');
    expect(md).to.contain('Oracle: first correct step (paper)');
    expect(md).to.contain('Pareto front');
    expect(md).to.contain("the paper's grid is θ = 0.0, 0.1, …, 1.0");
    expect(md).to.contain('![Fig. 1 — accuracy against mean time steps');
    expect(md).to.contain('](fig1.svg)');
    expect(md).to.contain('](fig3.svg)');
    // Minimal result: only Table 1.
    const min = renderMarkdown({
      ...result(), wallMsPerInference: undefined, spikesPerNeuron: undefined, curve: undefined, oracles: undefined,
      uncertainty: undefined, matched: undefined, conversionCheck: undefined, thetaRules: undefined, deployed: undefined,
    });
    expect(min).to.contain('## Table 1');
    expect(min).to.contain('| 90.00 |');
    expect(min).not.to.contain('## Table 2');
    expect(min).not.to.contain('[');
  });

  it('SVG figures are well-formed and hold the expected elements', () => {
    const plots = renderPlots(result());
    for (const [name, svg] of Object.entries(plots)) {
      expect(svg, name).to.be.a('string');
      const x = checkXml(svg!);
      expect(x.ok, `${name}: ${x.error}`).to.equal(true);
      expect(svg!.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).to.equal(true);
      expect(svg!).not.to.contain('NaN');
      expect(x.elements.get('svg')).to.equal(1);
      expect(x.elements.get('text')).to.be.greaterThan(3);
    }
    expect(Object.keys(plots)).to.deep.equal(['accuracySteps', 'accuracyConfidence', 'thetaGrid', 'histogram']);
    const ac = checkXml(plots.accuracyConfidence!);
    expect(ac.elements.get('polyline')).to.equal(3);
    // Fig. 1: the SNN over t with its Wilson band, both ANN baselines, the Pareto front, both oracles, the chosen θ.
    const f1 = plots.accuracySteps!;
    for (const cls of ['band snn', 'series snn-over-t', 'series ann-prefix-mean', 'series ann-ensemble', 'series pareto', 'class="chosen"']) expect(f1).to.contain(cls);
    expect(f1.match(/class="oracle"/g)).to.have.length(2);
    // Fig. 3: 11 paper grid points labelled, 2 extension points, both rules' θ, the baseline's band.
    const f3 = plots.thetaGrid!;
    expect(checkXml(f3).elements.get('circle')).to.be.at.least(11);
    expect(f3.match(/\(extension\)/g)).to.have.length(2);
    expect(f3).to.contain(`paper rule (deployed): θ = ${paper.theta.toFixed(2)}`);
    expect(f3).to.contain(`non-inferior rule: θ = ${robust.theta.toFixed(2)}`);
    expect(f3).to.contain('band baseline');
    const hc = checkXml(plots.histogram!);
    expect(hc.elements.get('rect')).to.be.greaterThan(1);
    expect(plots.histogram!).to.contain('class="series cumulative"');
    // Escaping of titles; degenerate inputs still render.
    const odd = plotTerminationHistogram({ counts: [0, 0], cumulative: [0, 0] }, 'a < b & "c"');
    expect(checkXml(odd).ok).to.equal(true);
    expect(checkXml(plotAccuracyConfidence({ accuracy: [0.5], meanConfidenceAlpha: [0.7] })).ok).to.equal(true);
    expect(checkXml(plotAccuracySteps({ T: 1, snnPerStep: [0.5], pareto: [] })).ok).to.equal(true);
    expect(checkXml(plotThetaGrid({ grid: [], fullT: { accuracy: 0.5, meanSteps: 1 } })).ok).to.equal(true);
  });

  it('the XML checker rejects broken markup', () => {
    expect(checkXml('<svg><g></svg>').ok).to.equal(false);
    expect(checkXml('<svg><text>a < b</text></svg>').ok).to.equal(false);
    expect(checkXml('<svg><rect/></svg>').ok).to.equal(true);
  });
});
