import { expect } from 'chai';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeTempDir, repoRoot } from '../helpers/paths';

/** Runs a command, returning stdout; a failure shows its stderr. */
function run(cmd: string, args: string[], cwd: string, timeout = 240_000): string {
  try {
    return execFileSync(cmd, args, { cwd, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
  }
}

describe('the packed package installs and runs', function () {
  this.timeout(420_000);
  let dir: string;
  before(() => {
    dir = makeTempDir('spikestream-pack-');
    // dist/ is built by `pretest`; packing without scripts does not build it again.
    const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], repoRoot);
    const tarball = path.join(dir, (JSON.parse(out) as { filename: string }[])[0].filename);
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=optional', '--ignore-scripts', tarball], app);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('require(): classifies the bundled recording by its label windows with the public API', () => {
    const script = `
      const path = require('path');
      const { lastValueFrom, toArray } = require('rxjs');
      const s = require('spikestream');
      const root = path.dirname(require.resolve('spikestream/package.json'));
      const file = path.join(root, 'recordings', 'gestures', 'user30_natural.aedat');
      const model = s.loadClassifierModel(path.join(root, 'models', 'gesture'));
      const windows = s.readLabelsBeside(file);
      (async () => {
        const geometry = await s.eventFileGeometry(file);
        const format = await s.detectFileFormat(file);
        const ds = await lastValueFrom(s.windowSamples(file, windows, { streamId: 'rec', geometry, format })
          .pipe(s.classify({ model, scheduler: s.createScheduler(model, 8) }), toArray()));
        console.log(JSON.stringify({ n: ds.length, windows: windows.length, correct: ds.filter((d) => d.label === d.trueLabel).length }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = JSON.parse(run('node', ['-e', script], path.join(dir, 'app')).trim()) as { n: number; windows: number; correct: number };
    expect(r.n).to.equal(r.windows);
    expect(r.correct).to.be.greaterThan(r.windows / 2);
  });

  it('import: the ESM entry and the subpaths resolve with their types on disk', () => {
    const script = `
      import { classify, runSample } from 'spikestream';
      import { segmentByActivity, classifyLive } from 'spikestream/operators';
      import { eventFileSource, segmentLive } from 'spikestream/sources';
      import { toNdjson } from 'spikestream/sinks';
      console.log([classify, runSample, segmentByActivity, classifyLive, eventFileSource, segmentLive, toNdjson].every((f) => typeof f === 'function'));`;
    expect(run('node', ['--input-type=module', '-e', script], path.join(dir, 'app')).trim()).to.equal('true');
    const pkg = path.join(dir, 'app', 'node_modules', 'spikestream');
    for (const d of ['dist/index.d.ts', 'dist/streams/operators/index.d.ts', 'dist/streams/sources/index.d.ts', 'dist/streams/sinks/index.d.ts']) {
      expect(fs.existsSync(path.join(pkg, d)), d).to.equal(true);
    }
    expect(fs.existsSync(path.join(pkg, 'dist', 'test')), 'tests are not shipped').to.equal(false);
  });

  it('npx spikestream runs the installed command', () => {
    const out = run('npx', ['--no-install', 'spikestream', 'info', path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat'), '--json'], path.join(dir, 'app'), 60_000);
    const info = JSON.parse(out) as { events?: number };
    expect(info.events).to.be.greaterThan(0);
  });
});
