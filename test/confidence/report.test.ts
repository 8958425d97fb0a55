import { expect } from 'chai';
import { fitAlpha } from '../../src/confidence/confidence';
import { plotAccuracyConfidence, plotParetoCurve, plotTerminationHistogram, renderPlots } from '../../src/confidence/plots';
import {
  analyzeTrace,
  decisionLatencies,
  downsampleCurve,
  latencyStats,
  percentile,
  renderMarkdown,
  spikesPerNeuron,
  terminationHistogram,
  type EvaluationResult,
} from '../../src/confidence/report';
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
      notes: ['synthetic data'],
    };
  }

  it('Markdown contains the paper-style tables', () => {
    const md = renderMarkdown(result(), { figures: { pareto: 'pareto.svg' } });
    expect(md).to.contain('| Model | Method | Acc(ANN)(%) | Acc(SNN)(%) | Averaged time steps | Latency saving(%) |');
    expect(md).to.contain('QCFS + Dynamic Confidence');
    expect(md).to.contain('## Table 2');
    expect(md).to.contain('| tiny-cnn <test> & co | cpu | 12.500 | 6.100 | 2.05× |');
    expect(md).to.contain('## Table 3');
    expect(md).to.contain('| tiny-cnn <test> & co, QCFS | 3.02 | 1.29 |');
    expect(md).to.contain('Oracle: first correct step (paper)');
    expect(md).to.contain('Pareto front');
    expect(md).to.contain("Paper's grid");
    expect(md).to.contain('![Accuracy against mean time steps](pareto.svg)');
    expect(md).to.contain('| 90.00 |');
    // Minimal result: only Table 1.
    const min = renderMarkdown({ ...result(), wallMsPerInference: undefined, spikesPerNeuron: undefined, curve: undefined, oracles: undefined });
    expect(min).to.contain('## Table 1');
    expect(min).not.to.contain('## Table 2');
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
    const ac = checkXml(plots.accuracyConfidence!);
    expect(ac.elements.get('polyline')).to.equal(3);
    const pc = checkXml(plots.pareto!);
    expect(pc.elements.get('circle')).to.be.greaterThan(a.pareto.length);
    expect(plots.pareto!).to.contain('class="chosen"');
    expect(plots.pareto!).to.contain('chosen θ');
    const hc = checkXml(plots.histogram!);
    expect(hc.elements.get('rect')).to.be.greaterThan(1);
    expect(plots.histogram!).to.contain('class="series cumulative"');
    // Escaping of titles; degenerate inputs still render.
    const odd = plotTerminationHistogram({ counts: [0, 0], cumulative: [0, 0] }, 'a < b & "c"');
    expect(checkXml(odd).ok).to.equal(true);
    expect(checkXml(plotAccuracyConfidence({ accuracy: [0.5], meanConfidenceAlpha: [0.7] })).ok).to.equal(true);
    expect(checkXml(plotParetoCurve({ points: [], pareto: [] })).ok).to.equal(true);
  });

  it('the XML checker rejects broken markup', () => {
    expect(checkXml('<svg><g></svg>').ok).to.equal(false);
    expect(checkXml('<svg><text>a < b</text></svg>').ok).to.equal(false);
    expect(checkXml('<svg><rect/></svg>').ok).to.equal(true);
  });
});
