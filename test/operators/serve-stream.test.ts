import { expect } from 'chai';
import { lastValueFrom, of, Subject, tap, toArray } from 'rxjs';
import { serveStream, withTrueLabel, type ServeStreamOptions } from '../../streams/operators/serve-stream';
import type { StreamInput, StreamPipeline } from '../../streams/operators/classify-stream';
import type { Decision } from '../../streams/types';
import { makeDecision } from '../helpers/decision-fixture';

// The stream's own classification is injected (as the worker threads do), so no model is needed here.
const input = { streamId: 's', sensor: { width: 4, height: 4 } } as unknown as StreamInput;
const pipeline = {} as StreamPipeline;

describe('serveStream: one stream from its classification to the subscribers', () => {
  it('publishes each decision, labelled, to the fan-out before emitting it', async () => {
    const published: Decision[] = [];
    const seenAtEmit: number[] = [];
    const o: ServeStreamOptions = {
      fanOut: { publish: (d) => published.push(d) },
      trueLabel: (d) => (d.sampleId === 's#0' ? 3 : undefined),
      classify: () => of(makeDecision({ sampleId: 's#0' }), makeDecision({ sampleId: 's#1' }), makeDecision({ sampleId: 's#2', trueLabel: 5 })),
    };
    const out = await lastValueFrom(serveStream(input, pipeline, o).pipe(tap(() => seenAtEmit.push(published.length)), toArray()));
    expect(out.map((d) => d.trueLabel)).to.deep.equal([3, undefined, 5]);
    expect(published).to.deep.equal(out);
    expect(seenAtEmit).to.deep.equal([1, 2, 3]);
  });

  it('passes the classification’s error on, after what was published', async () => {
    const decisions = new Subject<Decision>();
    const published: string[] = [];
    const served = lastValueFrom(serveStream(input, pipeline, { fanOut: { publish: (d) => published.push(d.sampleId) }, classify: () => decisions }));
    decisions.next(makeDecision({ sampleId: 's#0' }));
    decisions.error(new Error('pipeline broke'));
    let caught: unknown;
    await served.catch((err: unknown) => (caught = err));
    expect((caught as Error).message).to.equal('pipeline broke');
    expect(published).to.deep.equal(['s#0']);
  });

  it('withTrueLabel keeps a decision’s own true class and asks only when it has none', () => {
    let asked = 0;
    const label = (): number => {
      asked++;
      return 7;
    };
    expect(withTrueLabel(makeDecision({ trueLabel: 2 }), label).trueLabel).to.equal(2);
    expect(asked).to.equal(0);
    expect(withTrueLabel(makeDecision(), label).trueLabel).to.equal(7);
    const d = makeDecision();
    expect(withTrueLabel(d, () => undefined)).to.equal(d);
    expect(withTrueLabel(d, undefined)).to.equal(d);
  });
});
