import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { runSpikestream } from '../helpers/cli';
import { makeTempDir, sharedRecording } from '../helpers/paths';
import { readEventFile, summarizeEventFile } from 'aedat-parser-ts/node';
import { expectSameEvents } from '../../packages/aedat-parser-ts/test/helpers/decode';
import { concatBatches, type EventBatch } from '../../src/events/event-batch';

async function readAll(file: string): Promise<EventBatch> {
  const parts: EventBatch[] = [];
  for await (const b of readEventFile(file)) parts.push(b);
  return concatBatches(parts);
}

describe('spikestream info', function () {
  this.timeout(120_000);

  it('prints format, geometry, counts and time range as JSON', () => {
    const r = runSpikestream(['info', sharedRecording('dvs128_dv_dvSave-2024_06_20_16_13_00.aedat4'), '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const s = JSON.parse(r.stdout);
    expect(s.format).to.equal('aedat4');
    expect(s.geometry).to.deep.equal({ width: 128, height: 128 });
    expect(s.events).to.equal(149629);
    expect(s.onEvents).to.equal(66767);
    expect(s.firstT).to.equal(1718925184590631);
    expect(s.lastT).to.equal(1718925190610468);
    expect(s.durationUs).to.equal(1718925190610468 - 1718925184590631);
    expect(s.eventRatePerSecond).to.be.closeTo(149629 / 6.019837, 1);
  });

  it('prints a readable summary', () => {
    const r = runSpikestream(['info', sharedRecording('nmnist_tonic_sample.bin')]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/format\s+nmnist/);
    expect(r.stdout).to.match(/events\s+4,?325/);
    expect(r.stdout).to.match(/ON events\s+2,?145/);
  });

  it('says where the size comes from, which --fit the default model needs, and prints rates and counts readably', () => {
    const n = runSpikestream(['info', sharedRecording('nmnist_tonic_sample.bin')]);
    expect(n.code, n.stderr).to.equal(0);
    expect(n.stdout).to.match(/geometry\s+34×34 \(the nmnist format's fixed size\)/);
    expect(n.stdout).to.not.contain('from header');
    expect(n.stdout).to.match(/event rate\s+13\.9 kev\/s/);
    expect(n.stdout).to.match(/model fit\s+models\/gesture takes 128×128: needs --fit scale\|crop\|pad/);
    const d = runSpikestream(['info', sharedRecording('davis240c_IMU_translBoxes.aedat')]);
    expect(d.stdout).to.match(/events\s+162,771/);
    expect(d.stdout).to.match(/geometry\s+240×180 \(from the header\)/);
    expect(d.stdout).to.match(/needs --fit scale \(scale 1\/2 → 120×90, padded to 128×128\) or --fit crop/);
    const j = JSON.parse(runSpikestream(['info', sharedRecording('davis240c_IMU_translBoxes.aedat'), '--json']).stdout);
    expect(j.modelFit).to.deep.include({ fitsAsIs: false, target: { width: 128, height: 128 } });
    expect(j.modelFit.options.pad).to.match(/^not possible/);
  });

  it('fails with a clear message and exit code 1 on an unrecognised file', () => {
    const dir = makeTempDir();
    const f = path.join(dir, 'junk.xyz');
    fs.writeFileSync(f, 'not an event file');
    const r = runSpikestream(['info', f]);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('junk.xyz');
    expect(r.stderr).to.contain('unrecognised');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('exits 2 on a usage error', () => {
    const r = runSpikestream(['info', sharedRecording('nmnist_tonic_sample.bin'), '--format', 'nope']);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain("unknown format 'nope'");
  });
});

describe('spikestream convert', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = makeTempDir()));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [src, outName] of [
    ['dvs128_jaer_alex_walking_again.aedat', 'alex-raw-y.aedat'],
    ['dvs128_dv_dvSave-2024_06_13_16_16_25.aedat4', 'dv.aedat'],
    ['ncars_tonic_sample.dat', 'ncars.aedat4'],
    ['prophesee_evt3_expelliarmus_sample.raw', 'evt3.aedat4'],
  ] as const) {
    it(`${src} → ${outName} keeps every event`, async () => {
      const input = sharedRecording(src);
      const out = path.join(dir, outName);
      // --keep-y: the AEDAT 2.0 input keeps its raw (lower-left origin) y; the others need no flip anyway.
      const r = runSpikestream(['convert', input, out, '--json', '--keep-y']);
      expect(r.code, r.stderr).to.equal(0);
      const res = JSON.parse(r.stdout);
      expect(res.yFlipped).to.equal(false);
      expectSameEvents(await readAll(out), await readAll(input), `${src} → ${outName}`);
      expect(res.events).to.equal((await summarizeEventFile(input)).events);
      expect(fs.existsSync(`${out}.partial`)).to.equal(false);
    });
  }

  it('flips y by default from AEDAT 2.0 (origin lower-left) to the upper-left formats it writes', async () => {
    const input = sharedRecording('dvs128_jaer_alex_walking_again.aedat');
    const out = path.join(dir, 'alex.aedat4');
    const r = runSpikestream(['convert', input, out]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('y flipped');
    const raw = await readAll(input);
    const height = (await summarizeEventFile(input)).geometry!.height;
    expectSameEvents(await readAll(out), { ...raw, y: raw.y.map((y) => height - 1 - y) }, 'alex flipped');
  });

  it('writes CSV with a t,x,y,p header and integer µs, and reads it back: the same events and sensor size', async () => {
    const input = sharedRecording('nmnist_tonic_sample.bin');
    const out = path.join(dir, 'n.csv');
    const r = runSpikestream(['convert', input, out]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = fs.readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).to.equal('# spikestream events: t (µs), x, y, p (1 = ON); geometry 34x34');
    expect(lines[1]).to.equal('t,x,y,p');
    expect(lines.length).to.equal(4327);
    expect(lines[2]).to.equal('654,7,15,1');
    expect(lines[3]).to.equal('2999,19,18,0');
    expectSameEvents(await readAll(out), await readAll(input), 'csv round trip');
    const info = runSpikestream(['info', out, '--json']);
    expect(info.code, info.stderr).to.equal(0);
    const summary = JSON.parse(info.stdout) as { format: string; events: number; geometry: { width: number; height: number } };
    expect([summary.format, summary.events, summary.geometry]).to.deep.equal(['csv', 4325, { width: 34, height: 34 }]);
  });

  it('refuses an unknown output extension', () => {
    const r = runSpikestream(['convert', sharedRecording('nmnist_tonic_sample.bin'), path.join(dir, 'x.mp4')]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.contain('.aedat');
  });
});
