import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { lastValueFrom, take, timeout, toArray } from 'rxjs';
import { startService } from '../../src/server/service';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import { runSpikestream, runSpikestreamAsync } from '../helpers/cli';
import { makeTempDir, repoRoot, sharedRecording } from '../helpers/paths';

/** `--fit`/`--roi` reach the pipelines: a real DAVIS240 recording classified by the 128×128 bundled model. */
describe('--fit and --roi in replay and start (a real 240×180 recording)', function () {
  this.timeout(120_000);
  const davis = sharedRecording('davis240c_IMU_translBoxes.aedat');

  it('replay --fit scale classifies it; without --fit it is refused with the fix named', () => {
    const ok = runSpikestream(['replay', davis, '--fit', 'scale', '--json']);
    expect(ok.code, ok.stderr).to.equal(0);
    const lines = ok.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; eventsConsumed?: number });
    const decisions = lines.filter((l) => l.type === 'decision');
    expect(decisions.length).to.be.at.least(1);
    expect(decisions.every((d) => (d.eventsConsumed ?? 0) > 0)).to.equal(true);
    const refused = runSpikestream(['replay', davis]);
    expect(refused.code).to.equal(2);
    expect(refused.stderr).to.contain('--fit scale');
  });

  it('replay --roi keeps a 128×128 rectangle of the sensor (no --fit needed)', () => {
    const r = runSpikestream(['replay', davis, '--roi', '56,26,128,128', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.split('\n').filter((l) => l.includes('"type":"decision"')).length).to.be.at.least(1);
  });

  it('start --once --fit scale serves a folder that holds only a 240×180 recording', () => {
    const dir = makeTempDir('spikestream-fit-');
    fs.copyFileSync(davis, path.join(dir, path.basename(davis)));
    try {
      const r = runSpikestream(['start', '--once', '--asap', '--recordings', dir, '--fit', 'scale', '--json']);
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string });
      expect(lines.filter((l) => l.type === 'decision').length).to.be.at.least(1);
      const without = runSpikestream(['start', '--once', '--asap', '--recordings', dir]);
      expect(without.code).to.equal(2);
      expect(without.stderr).to.contain('--fit');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sensor --fit scale: the server fits that stream (URL parameters), and refuses it without', async () => {
    const svc = await startService({ model: loadClassifierModel(path.join(repoRoot, 'models', 'gesture')), port: 0 });
    try {
      const url = svc.address.url.replace(/^http/, 'ws');
      const first = lastValueFrom(svc.decisions.pipe(take(1), timeout(60_000), toArray()));
      const ok = await runSpikestreamAsync(['sensor', davis, '--url', `${url}/ingest/davis`, '--asap', '--fit', 'scale']);
      expect(ok.code, ok.stderr).to.equal(0);
      expect((await first)[0].streamId).to.equal('davis');
      const refused = await runSpikestreamAsync(['sensor', davis, '--url', `${url}/ingest/davis2`, '--asap']);
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.contain('--fit scale');
      const bad = await runSpikestreamAsync(['sensor', davis, '--url', `${url}/ingest/davis3?fit=zoom`, '--asap']);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.contain('fit must be one of');
    } finally {
      await svc.stop(500);
    }
  });
});
