/**
 * spikestream's public API: `import { … } from 'spikestream'`.
 * Subpaths: 'spikestream/operators', 'spikestream/sources', 'spikestream/sinks'.
 */
import type { ClassifierModel } from './src/snn/model/classifier-model';
import { createRunner, type RunnerKind } from './src/snn/step-runner';
import { SnnScheduler } from './src/snn/scheduler';
import { DEFAULT_RUNNER, DEFAULT_SLOTS } from './src/defaults';

export * from './streams/operators';
export * from './streams/sources';
export * from './streams/sinks';
export type { Sample, Frame, FrameCloseReason, StepResult, Decision, StepTrace, StopReason } from './streams/types';
export { runSample, classifyStats, decisionParams, geometryMismatch, ModelInputError, type ClassifyStats, type EngineOptions } from './streams/core/engine';
export { stopReason, buildDecision } from './streams/core/decision';
export { FrameCursor } from './streams/core/frame-cursor';
export { binEvents, binStats, frameGeometry, type BinOptions, type BinStats } from './streams/core/binner';
export { forLiveStreams, loadClassifierModel, type ClassifierModel, type ClassifierOverrides } from './src/snn/model/classifier-model';
export { BUNDLED_MODELS, bundledModelDir, bundledRecording, ModelNotFoundError, RecordingNotFoundError, type BundledModelName } from './src/snn/model/bundled';
export { SnnRunner } from './src/snn/runner';
/** The TF.js runner's type; make one with `createRunner(net, slots, 'tensor')`, which loads TF.js only then. */
export type { TensorRunner } from './src/snn/tensor-runner';
export { createRunner, resolveRunnerKind, type RunnerKind, type StepRunner } from './src/snn/step-runner';
export * from './src/defaults';
export { SnnScheduler, SlotWaitAborted } from './src/snn/scheduler';
export { importOnnx, type ImportOptions, type ImportedModel, type ImportSummary } from './src/snn/model/onnx/import';
export { annLogits } from './src/snn/model/onnx/ann-logits';
export { OnnxImportError } from './src/snn/model/onnx/refuse';
export { OnnxFormatError } from './src/snn/model/onnx/read';
export { saveModel, loadModel } from './src/snn/model/model-file';
export type { EventBatch } from './src/events/event-batch';
export type { Geometry } from './src/events/geometry';
export { readEventFile, summarizeEventFile, detectFileFormat, eventFileGeometry } from 'aedat-parser-ts/node';
export { FormatError } from 'aedat-parser-ts';
export { parseGestureLabels, readLabelsBeside, labelsFileFor, type GestureWindow } from './src/datasets/dvs-gesture';
export { confidence, softmax } from './src/confidence/confidence';
export { decide, shouldStop, STOP_RULES, type StopRule } from './src/confidence/decide';
export { calibratedConfidence, stepScale, type StepCalibration } from './src/confidence/step-calibration';
export { liveTrueLabel, isRightLive, NO_GESTURE } from './src/eval/live-score';
export { startService, defaultWallLimitMs, type Service, type ServiceOptions } from './src/server/service';
export { createServer, type ServerOptions, type SpikeServer } from './src/server/server';
export { streamToServer, type SensorClientOptions, type SensorClientResult } from './src/client/sensor-client';

/** A batched SNN scheduler for `model` with `slots` samples stepped together on the `runner` (defaults: src/defaults.ts; see createRunner). */
export function createScheduler(model: ClassifierModel, slots = DEFAULT_SLOTS, runner: RunnerKind | 'auto' = DEFAULT_RUNNER): SnnScheduler {
  return new SnnScheduler(createRunner(model.net, slots, runner));
}
