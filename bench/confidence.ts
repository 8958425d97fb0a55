/**
 * Dynamic Confidence benchmarks (pure JS, single thread):
 *   node .build/conf/bench/confidence.js     (or: npm run bench:confidence)
 * Synthetic validation run: 10,000 samples × 64 steps × 11 classes of cumulative outputs.
 * Prints a human table, then one JSON line per figure: {name, unit, value, backend, machine}.
 */
import { chooseTheta, gridCurve, paretoFront, thresholdCurve } from '../src/confidence/threshold';
import { traceFromOutputs } from '../src/confidence/trace';
import { oracleFirstCorrect, oracleStaysCorrect } from '../src/confidence/oracle';
import { chooseThetaByRule } from '../src/confidence/theta-rules';
import { mulberry32 } from '../src/prng';
import { machine as machineName, printFigures } from './common';

const N = Number(process.env.BENCH_N ?? 10000);
const T = Number(process.env.BENCH_T ?? 64);
const C = 11;
const RUNS = Number(process.env.BENCH_RUNS ?? 7);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function time<R>(fn: () => R): [number, R] {
  const t0 = process.hrtime.bigint();
  const r = fn();
  return [Number(process.hrtime.bigint() - t0) / 1e6, r];
}

function main(): void {
  const rand = mulberry32(42);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
  const outputs = new Float32Array(N * T * C);
  const labels = new Int32Array(N);
  const acc = new Float64Array(C);
  for (let i = 0; i < N; i++) {
    labels[i] = Math.floor(rand() * C);
    const margin = 0.1 + rand() * 1.5;
    acc.fill(0);
    for (let t = 0; t < T; t++) {
      for (let k = 0; k < C; k++) acc[k] += (k === labels[i] ? margin : 0) + gauss();
      outputs.set(acc, (i * T + t) * C);
    }
  }

  const build: number[] = [];
  let trace = traceFromOutputs(outputs, labels, T, C, T, 1);
  for (let r = 0; r < RUNS; r++) build.push(time(() => (trace = traceFromOutputs(outputs, labels, T, C, T, 1)))[0]);

  thresholdCurve(trace); // warm-up
  const search: number[] = [];
  const full: number[] = [];
  let curve = thresholdCurve(trace);
  for (let r = 0; r < RUNS; r++) {
    search.push(time(() => (curve = thresholdCurve(trace)))[0]);
    full.push(
      time(() => {
        const c = thresholdCurve(trace);
        const pf = paretoFront(c);
        return [pf, chooseTheta(c)];
      })[0],
    );
  }
  const grid: number[] = [];
  const oracles: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    grid.push(time(() => gridCurve(trace))[0]);
    oracles.push(time(() => [oracleFirstCorrect(trace), oracleStaysCorrect(trace)])[0]);
  }
  // The report's uncertainty: both θ rules with their paired bootstraps (2,000 resamples each point tried).
  const rules: number[] = [];
  for (let r = 0; r < Math.min(RUNS, 3); r++) {
    rules.push(time(() => [chooseThetaByRule(trace, 'paper'), chooseThetaByRule(trace, 'non-inferior')])[0]);
  }
  const chosen = chooseTheta(curve)!;
  const machine = machineName();
  const figures: [string, string, number][] = [
    [`trace construction ${N}x${T}x${C} (median of ${RUNS})`, 'ms', median(build)],
    [`exact threshold search ${N}x${T} (median of ${RUNS})`, 'ms', median(search)],
    [`exact search + Pareto + chooseTheta ${N}x${T} (median of ${RUNS})`, 'ms', median(full)],
    [`paper grid search, 13 thetas, ${N}x${T} (median of ${RUNS})`, 'ms', median(grid)],
    [`both oracles ${N}x${T} (median of ${RUNS})`, 'ms', median(oracles)],
    [`paper + non-inferior θ rules with paired bootstraps ${N}x${T} (median of ${rules.length})`, 'ms', median(rules)],
  ];
  console.log(`Dynamic Confidence bench: N=${N} T=${T} C=${C}; curve has ${curve.length} distinct points, Pareto front ${paretoFront(curve).length};`);
  console.log(
    `chosen θ=${chosen.theta.toPrecision(5)}: acc ${(chosen.accuracy * 100).toFixed(2)}% (full T ${((curve.correct[0] / N) * 100).toFixed(2)}%) in ${chosen.meanSteps.toFixed(2)} mean steps of ${T}`,
  );
  for (const [name, unit, value] of figures) console.log(`  ${name.padEnd(64)} ${value.toFixed(2)} ${unit}`);
  printFigures(
    'confidence',
    figures.map(([name, unit, value]) => ({ name, unit, value: Math.round(value * 1000) / 1000, backend: 'js', machine })),
  );
}

main();
