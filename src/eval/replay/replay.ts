/**
 * Replays a dataset folder (its labelled samples), a recording with a labels CSV beside it (its
 * label windows), or any event file (activity-segmented, like a live sensor) through the model.
 */
import * as fs from 'fs';
import * as path from 'path';
import { filter, lastValueFrom, map, tap, toArray, type Observable } from 'rxjs';
import { createRunner, resolveRunnerKind } from '../../snn/step-runner';
import { SnnScheduler } from '../../snn/scheduler';
import { readLabelsBeside } from '../../datasets/dvs-gesture';
import { detectFileFormat, eventFileGeometry } from 'aedat-parser-ts/node';
import type { ClassifierModel } from '../../snn/model/classifier-model';
import { classifyStats } from '../../../streams/core/engine';
import { classify } from '../../../streams/operators/classify';
import { classifyLive } from '../../../streams/operators/classify-live';
import { fitSample, fitSource, makeFit, modelSensorGeometry } from '../../../streams/operators/fit';
import { eventFileSource } from '../../../streams/sources/from-event-file';
import { openDataset } from '../../../streams/sources/open-dataset';
import { windowSamples } from '../../../streams/sources/window-samples';
import type { Decision } from '../../../streams/types';
import { replayOnThreads } from './threads';
import type { ReplayResult, ReplayRunOptions } from './types';
import { DEFAULT_RUNNER } from '../../defaults';

export type { ReplayResult, ReplayRunOptions, ReplayShard } from './types';

export async function replay(target: string, model: ClassifierModel, o: ReplayRunOptions): Promise<ReplayResult> {
  if ((o.threads ?? 1) > 1 && !o.shard && (fs.statSync(target).isDirectory() || readLabelsBeside(target))) return replayOnThreads(target, model, o);
  const scheduler = new SnnScheduler(createRunner(model.net, o.slots, await resolveRunnerKind(o.runner ?? DEFAULT_RUNNER)));
  // The sample's index in the whole replay: how a worker's decisions are put back in order.
  const order = new Map<string, number>();
  const mine = <S extends { id: string }>(s: S, i: number): boolean => {
    if (o.shard && i % o.shard.count !== o.shard.index) return false;
    order.set(s.id, i);
    return true;
  };
  const stats = classifyStats();
  const modelInput = modelSensorGeometry(model);
  let decisions$: Observable<Decision>;
  let source: string;
  if (fs.statSync(target).isDirectory()) {
    const ds = await openDataset(target, { split: o.split, limit: o.limit, pacing: o.pacing });
    source = `${ds.kind} folder, ${ds.size} samples (${o.split})`;
    const fit = makeFit({ sensor: ds.geometry, target: modelInput, ...o.fit });
    decisions$ = ds.samples.pipe(
      filter(mine),
      map((s) => fitSample(s, fit)),
      classify({ model, scheduler, stats, concurrency: o.pacing.mode === 'asap' ? o.slots : 1 }),
    );
  } else {
    const format = await detectFileFormat(target);
    const windows = readLabelsBeside(target);
    if (windows) {
      const geometry = (await eventFileGeometry(target, { format })) ?? { width: 128, height: 128 };
      const selected = o.limit !== undefined ? windows.slice(0, o.limit) : windows;
      source = `${format} recording with ${selected.length} label windows`;
      const id = path.basename(target).replace(/\.[^.]+$/, '');
      const fit = makeFit({ sensor: geometry, target: modelInput, ...o.fit });
      const samples = windowSamples(target, selected.map((w, i) => ({ ...w, id: `${id}#${i}` })), { streamId: id, geometry, pacing: o.pacing, format });
      decisions$ = samples.pipe(
        filter(mine),
        map((s) => fitSample(s, fit)),
        classify({ model, scheduler, stats, concurrency: Math.max(1, selected.length) }),
      );
    } else {
      const geometry = await eventFileGeometry(target, { format });
      if (!geometry) throw new RangeError(`${target}: no events, nothing to replay`);
      source = `${format} recording, activity-segmented`;
      // Fit the stream before it is segmented: the segmenter and the engine see the model's sensor size.
      const fit = makeFit({ sensor: geometry, target: modelInput, ...o.fit });
      decisions$ = classifyLive(path.basename(target), fit.geometry, fitSource(eventFileSource(target, { pacing: o.pacing }), fit), { model, scheduler, stats });
    }
  }
  const decisions = await lastValueFrom(decisions$.pipe(tap((d) => o.onDecision?.(d, order.get(d.sampleId))), toArray()));
  return { decisions, source, samples: stats.samples, skippedFrames: stats.stepsSaved };
}
