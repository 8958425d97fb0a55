import { expect } from 'chai';
import * as fs from 'fs';
import { firstValueFrom, lastValueFrom, mergeMap, reduce, take, toArray } from 'rxjs';
import { fromDataset } from '../../streams/sources/from-dataset';
import { eventsOf } from '../../streams/core/event-source';
import { clearGestureIndexCache } from '../../src/datasets/dvs-gesture';
import { sliceByTime } from '../../src/events/event-batch';
import { makeTempDir } from '../helpers/paths';
import { randomRecording, writeGestureFolder, type FixtureTrial } from '../helpers/gesture-fixture';
import { runSpikestream } from '../helpers/cli';

describe('fromDataset and `spikestream dataset info`', function () {
  this.timeout(120_000);
  let dir: string;
  const trials: FixtureTrial[] = [
    { name: 'user01_natural', split: 'train', events: randomRecording(1_000_000, 9_000_000, 10, 11), rows: [[4, 5_000_000, 6_000_000], [1, 1_200_000, 2_000_000], [4, 5_500_000, 7_000_000]] },
    { name: 'user25_led', split: 'test', events: randomRecording(0, 3_000_000, 20, 12), rows: [[11, 100_000, 900_000]] },
  ];

  before(() => {
    clearGestureIndexCache();
    dir = makeTempDir('spikestream-ds-');
    writeGestureFolder(dir, trials);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('emits one Sample per label row with its window events', async () => {
    const samples = await lastValueFrom(fromDataset(dir, { split: 'all' }).pipe(toArray()));
    expect(samples.map((s) => s.id)).to.deep.equal(['user01_natural#0', 'user01_natural#1', 'user01_natural#2', 'user25_led#0']);
    expect(samples.map((s) => s.label)).to.deep.equal([3, 0, 3, 10]);
    const counts = await lastValueFrom(
      fromDataset(dir, { split: 'train' }).pipe(
        mergeMap((s) => eventsOf(s.events).pipe(reduce((n, b) => n + b.length, 0))),
        toArray(),
      ),
    );
    const ev = trials[0].events;
    expect(counts.sort()).to.deep.equal(trials[0].rows.map((r) => sliceByTime(ev, r[1], r[2]).length).sort());
  });

  it('reads nothing for samples never subscribed, and stops reading when a consumer stops', async () => {
    let bytes = 0;
    const first = await firstValueFrom(fromDataset(dir, { split: 'train', onBytesRead: (n) => (bytes += n) }));
    expect(bytes).to.equal(0);
    await lastValueFrom(eventsOf(first.events).pipe(take(1)));
    const fileSize = fs.statSync(`${dir}/user01_natural.aedat`).size;
    // Index (one small read per packet) plus the first read of the window: far less than the file.
    expect(bytes).to.be.greaterThan(0);
    expect(bytes).to.be.below(fileSize / 3);
  });

  it('`dataset info --json` lists samples and totals per class', () => {
    const r = runSpikestream(['dataset', 'info', dir, '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out.samples).to.have.length(4);
    expect(out.samples[1]).to.include({ id: 'user01_natural#1', label: 0, className: 'hand clapping', tStart: 1_200_000, tEnd: 2_000_000 });
    expect(out.samples[1].events).to.equal(sliceByTime(trials[0].events, 1_200_000, 2_000_000).length);
    const arm = out.perClass.find((c: { label: number }) => c.label === 3);
    expect(arm.samples).to.equal(2);
    const text = runSpikestream(['dataset', 'info', dir, '--split', 'test']);
    expect(text.code, text.stderr).to.equal(0);
    expect(text.stdout).to.contain('user25_led#0');
    expect(text.stdout).to.contain('other gestures');
    expect(text.stdout).to.not.contain('user01_natural#0');
  });

  it('`dataset info` rejects a bad split and reports a missing folder', () => {
    expect(runSpikestream(['dataset', 'info', dir, '--split', 'nope']).code).to.equal(2);
    const r = runSpikestream(['dataset', 'info', `${dir}/missing`]);
    expect(r.code, 'a missing path is a usage error everywhere').to.equal(2);
    expect(r.stderr).to.contain('missing');
  });
});
