/**
 * Classify a recording with the bundled model through the RxJS API, printing every decision
 * and a summary.
 *
 *   node dist/examples/replay-file.js [file] [--labels file.csv] [--speed x] [--theta θ] [--json]
 *
 * Defaults: the bundled recording (recordings/gestures/user30_natural.aedat) and the labels CSV
 * beside it (`<name>_labels.csv`). With labels, each labelled window is one sample
 * (`windowSamples`) and the summary gives the accuracy; without, the file is cut into samples
 * by activity, as a live sensor would be (`classifyLive`). `--speed x` replays at x times
 * the recorded speed (default: as fast as possible). `--json`: one JSON line per decision, then
 * `{"type":"summary",…}`.
 */
import * as fs from 'fs';
import { parseArgs } from 'util';
import { lastValueFrom, tap, toArray, type Observable } from 'rxjs';
import {
  ASAP,
  classify,
  classifyLive,
  classifyStats,
  createScheduler,
  detectFileFormat,
  eventFileGeometry,
  eventFileSource,
  labelsFileFor,
  loadClassifierModel,
  parseGestureLabels,
  speed,
  windowSamples,
  type Decision,
} from 'spikestream';
import { BUNDLED_MODEL, BUNDLED_RECORDING } from './bundled';

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      labels: { type: 'string' },
      speed: { type: 'string' },
      theta: { type: 'string' },
      model: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const file = positionals[0] ?? BUNDLED_RECORDING;
  const labelsFile = values.labels ?? labelsFileFor(file);
  const model = loadClassifierModel(values.model ?? BUNDLED_MODEL, { theta: values.theta !== undefined ? Number(values.theta) : undefined });
  const pacing = values.speed !== undefined ? speed(Number(values.speed)) : ASAP;
  const geometry = (await eventFileGeometry(file)) ?? { width: 128, height: 128 };

  // One batched SNN runner; every sample gets a slot and is stepped with the others.
  const scheduler = createScheduler(model, 32);
  const stats = classifyStats();
  let decisions$: Observable<Decision>;
  if (labelsFile !== file && fs.existsSync(labelsFile)) {
    // One sample per labelled window, each read on its own (seeking in AEDAT 3.1), classified side by side.
    const windows = parseGestureLabels(fs.readFileSync(labelsFile, 'utf8'), labelsFile).map((w, i) => ({ ...w, id: `gesture#${i}` }));
    decisions$ = windowSamples(file, windows, { streamId: 'file', geometry, pacing, format: await detectFileFormat(file) }).pipe(classify({ model, scheduler, stats }));
  } else {
    // Cut by activity as a live sensor would be; the file is read only as far as the decisions need.
    decisions$ = classifyLive('file', geometry, eventFileSource(file, { pacing }), { model, scheduler, stats });
  }

  const t0 = performance.now();
  const decisions = await lastValueFrom(
    decisions$.pipe(
      tap((d) => {
        if (values.json) console.log(JSON.stringify({ type: 'decision', ...d }));
        else {
          // A decision that never reached θ is no answer: never right or wrong.
          const truth = !d.confident ? '  uncertain' : d.trueLabel === undefined ? '' : d.trueLabel === d.label ? '  ✓' : `  ✗ (was ${model.classes[d.trueLabel]})`;
          console.log(`${d.sampleId.padEnd(12)} ${d.className.padEnd(28)} conf ${d.confidence.toFixed(3)}  step ${d.steps}/${d.maxSteps}${d.early ? ' early' : ''}${truth}`);
        }
      }),
      toArray(),
    ),
  );
  // Accuracy is over the answers (confident decisions) only; uncertain decisions are counted apart.
  const answers = decisions.filter((d) => d.confident);
  const labelled = answers.filter((d) => d.trueLabel !== undefined);
  const correct = labelled.filter((d) => d.trueLabel === d.label).length;
  const stepsTotal = stats.stepsRun + stats.stepsSaved;
  const summary = {
    type: 'summary',
    file,
    decisions: decisions.length,
    answers: answers.length,
    uncertain: decisions.length - answers.length,
    early: stats.early,
    labelled: labelled.length,
    accuracy: labelled.length > 0 ? correct / labelled.length : null,
    meanSteps: decisions.length > 0 ? decisions.reduce((a, d) => a + d.steps, 0) / decisions.length : 0,
    maxSteps: model.maxSteps,
    stepsRun: stats.stepsRun,
    stepsSaved: stats.stepsSaved,
    theta: model.theta,
    seconds: (performance.now() - t0) / 1000,
  };
  if (values.json) console.log(JSON.stringify(summary));
  else {
    const acc = summary.accuracy === null ? 'no labelled answers' : `accuracy ${(100 * summary.accuracy).toFixed(1)}% (${correct}/${labelled.length} labelled answers)`;
    const saved = stepsTotal > 0 ? ((100 * stats.stepsSaved) / stepsTotal).toFixed(1) : '0';
    console.log(
      `summary: ${summary.decisions} decisions: ${summary.answers} answers (${summary.early} early), ${summary.uncertain} uncertain; ${acc}, mean steps ${summary.meanSteps.toFixed(2)}/${model.maxSteps}, ` +
        `steps saved ${stats.stepsSaved}/${stepsTotal} (${saved}%), θ = ${model.theta.toFixed(3)}, ${summary.seconds.toFixed(2)} s`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
