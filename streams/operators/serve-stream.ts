/**
 * A live stream served to its subscribers, whole on the streams side: the stream's pipeline
 * (`classifyStream`, on this thread, or a transport's own classification such as the service's
 * worker threads) → the decision's true class, when the caller knows it → the subscribers'
 * fan-out (the `SubscriberHub`), before anything else sees the decision.
 *
 * The service hands the stream's pulled queue in once, and a decision leaves once, when the
 * fan-out writes it to each subscriber socket: on the walk from a sensor's message to a
 * subscriber's decision the data passes through no `src/server` code (docs/architecture.md, "Crossings";
 * `test/architecture/crossings.test.ts` measures it). Whatever the transport counts (metrics)
 * it counts from the returned Observable, after the subscribers have the decision.
 */
import { map, tap, type Observable } from 'rxjs';
import type { Decision } from '../types';
import { classifyStream, type StreamInput, type StreamPipeline } from './classify-stream';

/** Where a stream's decisions fan out to subscribers (a `SubscriberHub` from streams/sinks). */
export interface DecisionFanOut {
  publish(decision: Decision): unknown;
}

export interface ServeStreamOptions {
  readonly fanOut: DecisionFanOut;
  /** The true class of a decision when known (e.g. from a recording's label windows): set as its `trueLabel` before it is published. */
  readonly trueLabel?: (d: Decision) => number | undefined;
  /** The stream's classification when it runs elsewhere (worker threads); default: `classifyStream` with the pipeline, here. */
  readonly classify?: (input: StreamInput) => Observable<Decision>;
}

/** `d` with its true class from `trueLabel`, when `d` has none and `trueLabel` knows it. */
export function withTrueLabel(d: Decision, trueLabel: ServeStreamOptions['trueLabel']): Decision {
  const t = d.trueLabel === undefined ? trueLabel?.(d) : undefined;
  return t === undefined ? d : { ...d, trueLabel: t };
}

/**
 * One stream → its decisions, each already published to the fan-out (and labelled) when it is
 * emitted. Errors and the end are the pipeline's; unsubscribing stops the pipeline.
 */
export function serveStream(input: StreamInput, pipeline: StreamPipeline, o: ServeStreamOptions): Observable<Decision> {
  const classified = o.classify ? o.classify(input) : classifyStream(input, pipeline);
  const { fanOut, trueLabel } = o;
  return classified.pipe(
    map((d) => withTrueLabel(d, trueLabel)),
    tap((d) => {
      fanOut.publish(d);
    }),
  );
}
