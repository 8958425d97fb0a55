import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { concatBatches, type EventBatch, sliceByTime } from '../../src/events/event-batch';
import {
  GESTURE_CLASSES,
  clearGestureIndexCache,
  listGestureTrials,
  loadGestureDataset,
  parseGestureLabels,
  readSample,
  sampleEventCount,
} from '../../src/datasets/dvs-gesture';
import { encodeAedat31, FormatError } from 'aedat-parser-ts';
import { expectSameEvents } from '../../packages/aedat-parser-ts/test/helpers/decode';
import { makeTempDir, sharedRecording } from '../helpers/paths';
import { randomRecording } from '../helpers/gesture-fixture';

const recording = randomRecording;

interface Trial {
  name: string;
  events: EventBatch;
  rows: [number, number, number][];
}

async function collect(it: AsyncIterable<EventBatch>): Promise<EventBatch> {
  const parts: EventBatch[] = [];
  for await (const b of it) parts.push(b);
  return concatBatches(parts);
}

describe('DVS128 Gesture dataset', () => {
  let dir: string;
  const trials: Trial[] = [
    {
      name: 'user01_fluorescent',
      events: recording(1_000_000, 4_000_000, 20, 1),
      // Unsorted by class, class 8 twice, overlapping windows.
      rows: [[3, 1_200_000, 1_600_000], [1, 1_500_000, 1_900_000], [8, 2_000_000, 2_400_000], [8, 2_300_000, 2_900_000], [11, 3_100_000, 3_900_000]],
    },
    { name: 'user02_led', events: recording(500_000, 2_500_000, 25, 2), rows: [[10, 600_000, 1_000_000], [2, 1_100_000, 1_500_000]] },
    { name: 'user24_fluorescent_led', events: recording(2 ** 31 - 800_000, 2 ** 31 + 800_000, 30, 3), rows: [[5, 2 ** 31 - 300_000, 2 ** 31 + 300_000], [4, 2 ** 31 - 700_000, 2 ** 31 - 400_000]] },
  ];

  before(() => {
    clearGestureIndexCache();
    dir = makeTempDir('spikestream-gesture-');
    for (const t of trials) {
      fs.writeFileSync(path.join(dir, `${t.name}.aedat`), encodeAedat31(t.events, { geometry: { width: 128, height: 128 } }));
      const csv = ['class,startTime_usec,endTime_usec', ...t.rows.map((r) => r.join(','))].join('\n') + '\n';
      fs.writeFileSync(path.join(dir, `${t.name}_labels.csv`), csv);
    }
    fs.writeFileSync(path.join(dir, 'trials_to_train.txt'), 'user01_fluorescent.aedat\r\nuser02_led.aedat\r\n\r\n');
    fs.writeFileSync(path.join(dir, 'trials_to_test.txt'), 'user24_fluorescent_led.aedat\n');
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('has the 11 class names', () => {
    expect(GESTURE_CLASSES).to.have.length(11);
    expect(GESTURE_CLASSES[0]).to.equal('hand clapping');
    expect(GESTURE_CLASSES[7]).to.equal('arm roll');
    expect(GESTURE_CLASSES[10]).to.equal('other gestures');
  });

  it('lists the trials of each split (CRLF lists)', async () => {
    expect(await listGestureTrials(dir, 'train')).to.deep.equal(['user01_fluorescent.aedat', 'user02_led.aedat']);
    expect(await listGestureTrials(dir, 'test')).to.deep.equal(['user24_fluorescent_led.aedat']);
    expect(await listGestureTrials(dir, 'all')).to.have.length(3);
  });

  it('loads samples in file then CSV row order, with labels 0–10 and class names', async () => {
    const train = await loadGestureDataset(dir, { split: 'train' });
    expect(train.samples.map((s) => s.id)).to.deep.equal([
      'user01_fluorescent#0',
      'user01_fluorescent#1',
      'user01_fluorescent#2',
      'user01_fluorescent#3',
      'user01_fluorescent#4',
      'user02_led#0',
      'user02_led#1',
    ]);
    expect(train.samples.map((s) => s.label)).to.deep.equal([2, 0, 7, 7, 10, 9, 1]);
    expect(train.samples[0]).to.include({ user: 1, lighting: 'fluorescent', className: 'left hand wave', tStart: 1_200_000, tEnd: 1_600_000 });
    expect(train.samples[0].file).to.equal(path.join(dir, 'user01_fluorescent.aedat'));
    const test = await loadGestureDataset(dir, { split: 'test' });
    expect(test.samples.map((s) => [s.id, s.user, s.lighting, s.label, s.className])).to.deep.equal([
      ['user24_fluorescent_led#0', 24, 'fluorescent_led', 4, 'right arm counter-clockwise'],
      ['user24_fluorescent_led#1', 24, 'fluorescent_led', 3, 'right arm clockwise'],
    ]);
    expect((await loadGestureDataset(dir, { split: 'all' })).samples).to.have.length(9);
  });

  it('reads each sample as exactly its window of events, seeking instead of decoding the file', async () => {
    clearGestureIndexCache();
    const ds = await loadGestureDataset(dir, { split: 'all' });
    for (const s of ds.samples) {
      const trial = trials.find((t) => s.id.startsWith(`${t.name}#`))!;
      const fileSize = fs.statSync(s.file).size;
      let read = 0;
      const got = await collect(ds.readSample(s, { onBytesRead: (n) => (read += n) }));
      const want = sliceByTime(trial.events, s.tStart, s.tEnd);
      expect(want.length).to.be.greaterThan(1000);
      expectSameEvents(got, want, s.id);
      for (let i = 0; i < got.length; i++) if (got.t[i] < s.tStart || got.t[i] >= s.tEnd) expect.fail(`${s.id}: event ${i} outside its window`);
      // Index (first sample of a file only) plus the window's packets: far less than the file.
      expect(read, `${s.id}: ${read} of ${fileSize} bytes`).to.be.below(fileSize * 0.5);
      expect(read).to.be.below(want.length * 8 + 2 * 4096 * 8 + 50_000);
    }
  });

  it('reads a short sample from an indexed file with few bytes, and stops early cleanly', async () => {
    const ds = await loadGestureDataset(dir, { split: 'train' });
    const s = { ...ds.samples[0], tStart: 1_300_000, tEnd: 1_310_000 };
    await sampleEventCount(ds.samples[0]); // builds the index
    let read = 0;
    const n = await sampleEventCount(s, { onBytesRead: (k) => (read += k) });
    expect(n).to.equal(sliceByTime(trials[0].events, 1_300_000, 1_310_000).length);
    expect(read).to.be.below(3 * (28 + 4096 * 8));
    let batches = 0;
    for await (const b of readSample(ds.samples[4])) {
      expect(b.length).to.be.greaterThan(0);
      if (++batches === 1) break;
    }
    expect(batches).to.equal(1);
  });

  it('parses the real user01_natural labels (unsorted, class 8 twice)', () => {
    const file = sharedRecording('dvsgesture_user01_natural_labels.csv');
    const rows = parseGestureLabels(fs.readFileSync(file, 'utf8'), file);
    expect(rows).to.have.length(12);
    expect(rows[0]).to.include({ classId: 1, label: 0, className: 'hand clapping', tStart: 53_036_986, tEnd: 59_508_469, line: 2 });
    expect(rows[11]).to.include({ classId: 11, label: 10, className: 'other gestures', tStart: 171_367_247, tEnd: 177_991_967, line: 13 });
    expect(rows.map((r) => r.classId)).to.deep.equal([1, 2, 3, 5, 4, 6, 7, 8, 8, 9, 10, 11]);
    expect(rows.filter((r) => r.label === 7)).to.have.length(2);
  });

  it('rejects bad label rows with FormatError naming file and line', () => {
    const cases: [string, number, RegExp][] = [
      ['class,startTime_usec,endTime_usec\n1,10,20\n12,30,40\n', 3, /class 12/],
      ['class,startTime_usec,endTime_usec\r\n1,10,20\r\n0,30,40\r\n', 3, /class 0/],
      ['class,startTime_usec,endTime_usec\n1,10\n', 2, /3 fields/],
      ['class,startTime_usec,endTime_usec\n1,10,20\n\n2,x,40\n', 4, /not a non-negative integer/],
      ['class,startTime_usec,endTime_usec\n1,50,20\n', 2, /not after start/],
      ['class,startTime_usec,endTime_usec\n1,-5,20\n', 2, /not a non-negative integer/],
      ['start,end\n1,2,3\n', 1, /expected header/],
      ['', 1, /empty labels file/],
    ];
    for (const [text, line, re] of cases) {
      try {
        parseGestureLabels(text, 'userXX_labels.csv');
        expect.fail(`accepted ${JSON.stringify(text)}`);
      } catch (err) {
        expect(err).to.be.instanceOf(FormatError);
        const fe = err as FormatError;
        expect(fe).to.include({ format: 'labels-csv', offset: line, file: 'userXX_labels.csv', unit: 'line' });
        expect(fe.reason).to.match(re);
        expect(fe.message).to.contain(`userXX_labels.csv: labels-csv line ${line}`);
      }
    }
  });

  it('reports a bad CSV inside a dataset folder with its path, and a bad trials line', async () => {
    const bad = makeTempDir('spikestream-gesture-bad-');
    try {
      fs.writeFileSync(path.join(bad, 'user03_lab.aedat'), encodeAedat31(recording(0, 1000, 10, 4), { geometry: { width: 128, height: 128 } }));
      fs.writeFileSync(path.join(bad, 'user03_lab_labels.csv'), 'class,startTime_usec,endTime_usec\n1,0,500\n99,0,5\n');
      fs.writeFileSync(path.join(bad, 'trials_to_train.txt'), 'user03_lab.aedat\n');
      fs.writeFileSync(path.join(bad, 'trials_to_test.txt'), '../etc/passwd\n');
      try {
        await loadGestureDataset(bad, { split: 'train' });
        expect.fail('expected a FormatError');
      } catch (err) {
        expect(err).to.be.instanceOf(FormatError);
        expect(err).to.include({ file: path.join(bad, 'user03_lab_labels.csv'), offset: 3 });
      }
      try {
        await listGestureTrials(bad, 'test');
        expect.fail('expected a FormatError');
      } catch (err) {
        expect(err).to.be.instanceOf(FormatError);
        expect(err).to.include({ format: 'trials-list', offset: 1, unit: 'line' });
      }
    } finally {
      fs.rmSync(bad, { recursive: true, force: true });
    }
  });
});

describe('labels beside a recording', () => {
  const { labelsFileFor, readLabelsBeside } = require('../../src/datasets/dvs-gesture') as typeof import('../../src/datasets/dvs-gesture');
  it('finds `<name>_labels.csv` next to `<name>.aedat`, or says there is none', () => {
    const rec = path.join(process.cwd(), 'recordings', 'gestures', 'user30_natural.aedat');
    expect(labelsFileFor(rec)).to.equal(rec.replace(/\.aedat$/, '_labels.csv'));
    const windows = readLabelsBeside(rec);
    expect(windows).to.have.length(11);
    expect(new Set(windows?.map((w) => w.label)).size).to.equal(11);
    expect(readLabelsBeside(sharedRecording('dvs128_jaer_alex_walking_again.aedat'))).to.equal(undefined);
  });
});
