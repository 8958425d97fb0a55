/**
 * What the viewer page (viewer/, served at `/`) reads besides its two WebSocket feeds: the
 * model it is watching (`/viewer/config.json`) and the service's figures (`/viewer/figures.json`),
 * read from the same prom-client registry that `/metrics` exposes.
 */
import { formatTheta, thetaOrigin, type ClassifierModel } from '../snn/model/classifier-model';
import { channelNames } from '../snn/input-encoding';
import type { StopRule } from '../confidence/decide';
import type { ServiceMetrics } from './metrics';
import type { StreamStatus } from './types';

/** The model as the page needs it: classes for the bars, θ and T for the chart, the input size for the event image. */
export interface ViewerModelInfo {
  readonly name: string;
  readonly mode: string;
  readonly classes: readonly string[];
  readonly theta: number;
  /** What the bars, the chart and θ show: 'calibrated' (the probability the class is right, stop at ≥ θ) or 'paper' (c_t, stop at > θ). */
  readonly stopRule: StopRule;
  /** θ labelled by its rule, for the page's header. */
  readonly thetaLabel: string;
  readonly maxSteps: number;
  readonly binUs?: number;
  readonly eventsPerBin?: number;
  readonly inputWidth: number;
  readonly inputHeight: number;
  /** What the event image's two colours show: the input channels' names (OFF/ON, or the halves of a step). */
  readonly channels: readonly [string, string];
}

export interface ViewerOptions {
  /** What `/viewer/config.json` says about the model (the service fills it from its model). */
  readonly model?: ViewerModelInfo;
  /** Most preview frames a second per stream (default 20). */
  readonly previewFps?: number;
  /** Per-page backlog bound of the preview feed in bytes (default 64 KiB). */
  readonly previewMaxBufferedBytes?: number;
}

/** `/viewer/config.json`. */
export interface ViewerConfig {
  readonly model: ViewerModelInfo | null;
  readonly previewFps: number;
}

/** `/viewer/figures.json`: cumulative counts and gauges at `atMs`; the page turns successive ones into rates. */
export interface ViewerFigures {
  readonly atMs: number;
  /** The connected sensor streams (what the page shows a panel for). */
  readonly streams: readonly { readonly id: string; readonly width: number | null; readonly height: number | null }[];
  readonly activeStreams: number;
  readonly eventsIn: number;
  /** Events dropped before the pipeline, every reason. */
  readonly eventsDropped: number;
  /** Answers (confident decisions). */
  readonly decisions: number;
  readonly uncertain: number;
  readonly early: number;
  readonly stepsSaved: number;
  /** SNN steps used by published decisions. */
  readonly decisionSteps: number;
  /** Share of steps saved: stepsSaved / (decisionSteps + stepsSaved); 0 before any decision. */
  readonly stepsSavedShare: number;
  readonly subscriberDrops: number;
  readonly previewDrops: number;
}

/** The model's info for the page; pass the model as its streams run it (`forLiveStreams`: the service's streams are live). */
export function viewerModelInfo(model: ClassifierModel): ViewerModelInfo {
  const name = model.dir.split(/[\\/]/).filter((p) => p.length > 0).pop() ?? model.dir;
  const rule = model.stopRule === 'calibrated' ? 'calibrated probability that the class is right, answer at ≥ θ' : "the paper's c_t, answer at > θ";
  return {
    name,
    mode: model.mode,
    classes: model.classes,
    theta: model.theta,
    stopRule: model.stopRule,
    thetaLabel: `θ = ${formatTheta(model.theta)} (${rule}; ${thetaOrigin(model)})`,
    maxSteps: model.maxSteps,
    ...(model.binUs !== undefined ? { binUs: model.binUs } : { eventsPerBin: model.eventsPerBin }),
    inputWidth: model.net.inputWidth,
    inputHeight: model.net.inputHeight,
    channels: channelNames(model.encoding),
  };
}

/** The figures, summed over each metric's label sets from the registry's own JSON view. */
export async function viewerFigures(metrics: ServiceMetrics, streams: readonly StreamStatus[]): Promise<ViewerFigures> {
  const totals = new Map<string, number>();
  // Only counters and gauges are looked up (a histogram's sum would mix its buckets).
  for (const m of await metrics.registry.getMetricsAsJSON()) totals.set(m.name, m.values.reduce((a, v) => a + v.value, 0));
  const get = (name: string): number => totals.get(name) ?? 0;
  const stepsSaved = get(metrics.stepsSaved.name);
  const decisionSteps = get(metrics.decisionSteps.name);
  return {
    atMs: Date.now(),
    streams: streams.map((s) => ({ id: s.streamId, width: s.geometry?.width ?? null, height: s.geometry?.height ?? null })),
    activeStreams: get(metrics.activeStreams.name),
    eventsIn: get(metrics.eventsIn.name),
    eventsDropped: get(metrics.eventsDropped.name),
    decisions: get(metrics.decisions.name),
    uncertain: get(metrics.uncertainDecisions.name),
    early: get(metrics.earlyDecisions.name),
    stepsSaved,
    decisionSteps,
    stepsSavedShare: decisionSteps + stepsSaved > 0 ? stepsSaved / (decisionSteps + stepsSaved) : 0,
    subscriberDrops: get(metrics.subscriberDrops.name),
    previewDrops: get(metrics.previewDrops.name),
  };
}
