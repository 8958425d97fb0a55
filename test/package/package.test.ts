import { expect } from 'chai';
import * as fs from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import { makeTempDir, repoRoot } from '../helpers/paths';
import { runCommand as run } from '../../packages/aedat-parser-ts/test/helpers/commands';

/** The ```ts blocks of README.md: what a user copies. */
function readmeSnippets(): string[] {
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The bare package names the JavaScript files under `dir` require (Node's built-ins left out). */
function importedPackages(dir: string): Set<string> {
  const names = new Set<string>();
  const builtins = new Set(builtinModules);
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.js')) {
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/require\(["']([^"'./][^"']*)["']\)/g)) {
          const parts = m[1].split('/');
          const name = m[1].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
          if (!name.startsWith('node:') && !builtins.has(name)) names.add(name);
        }
      }
    }
  };
  walk(dir);
  return names;
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
    // An ES module package, as a user of the README's snippets (top-level await) would have.
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--omit=optional', '--ignore-scripts', tarball], app);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('require(): classifies the bundled recording by its label windows, model and recording by name', () => {
    const script = `
      const { lastValueFrom, toArray } = require('rxjs');
      const s = require('spikestream');
      const file = s.bundledRecording('gestures/user30_natural.aedat');
      const model = s.loadClassifierModel('gesture');
      const windows = s.readLabelsBeside(file);
      (async () => {
        const geometry = await s.eventFileGeometry(file);
        const format = await s.detectFileFormat(file);
        const ds = await lastValueFrom(s.windowSamples(file, windows, { streamId: 'rec', geometry, format })
          .pipe(s.classify({ model, scheduler: s.createScheduler(model, 8) }), toArray()));
        console.log(JSON.stringify({ n: ds.length, windows: windows.length, correct: ds.filter((d) => d.label === d.trueLabel).length }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = JSON.parse(run('node', ['--input-type=commonjs', '-e', script], path.join(dir, 'app')).trim()) as { n: number; windows: number; correct: number };
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

  it("the README's TypeScript snippets run as they are (node, as JavaScript) and compile under strict tsc without skipLibCheck", () => {
    const app = path.join(dir, 'app');
    const snippets = readmeSnippets();
    expect(snippets.length, 'TypeScript snippets in README.md').to.be.at.least(1);
    snippets.forEach((code, i) => {
      fs.writeFileSync(path.join(app, `readme-${i}.mts`), code);
      fs.writeFileSync(path.join(app, `readme-${i}.mjs`), code);
      const out = run('node', [`readme-${i}.mjs`], app, 120_000);
      expect(out, `README snippet ${i} prints`).to.match(/\S/);
    });
    fs.writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true } }),
    );
    run(process.execPath, [path.join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app, 240_000);
  });

  it('a model name that is none, or a folder without a model, is one line naming the full path and the bundled names', () => {
    const script = `import { loadClassifierModel } from 'spikestream';
      try { loadClassifierModel('gestures'); } catch (e) { console.log(e.name + ': ' + e.message); }`;
    const out = run('node', ['--input-type=module', '-e', script], path.join(dir, 'app')).trim();
    expect(out).to.equal(`ModelNotFoundError: ${path.join(fs.realpathSync(path.join(dir, 'app')), 'gestures')} does not exist: give a model folder or a bundled model name (gesture, saccade-mnist, saccade-fashion)`);
  });

  it('every package the shipped code imports is a dependency', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.optionalDependencies ?? {})]);
    const installed = path.join(dir, 'app', 'node_modules', 'spikestream', 'dist');
    const undeclared = [...importedPackages(installed)].filter((name) => !declared.has(name));
    expect(undeclared).to.deep.equal([]);
  });

  it('carries aedat-parser-ts 0.1.0 (bundled: it is not on the registry), whose decoders and FormatError are the ones spikestream uses', () => {
    const script = `
      const path = require('path');
      const s = require('spikestream');
      const at = require.resolve('aedat-parser-ts', { paths: [path.dirname(require.resolve('spikestream'))] });
      const lib = require(at);
      const pkg = require(require.resolve('aedat-parser-ts/package.json', { paths: [path.dirname(require.resolve('spikestream'))] }));
      let thrown;
      try { lib.detectFormat(new Uint8Array(8), 'x.txt'); } catch (e) { thrown = e; }
      console.log(JSON.stringify({ version: pkg.version, license: pkg.license, sameError: s.FormatError === lib.FormatError && thrown instanceof s.FormatError }));`;
    const out = JSON.parse(run('node', ['--input-type=commonjs', '-e', script], path.join(dir, 'app')).trim()) as Record<string, unknown>;
    expect(out).to.deep.equal({ version: '0.1.0', license: 'MIT', sameError: true });
  });

  it('npx spikestream runs the installed command', () => {
    const out = run('npx', ['--no-install', 'spikestream', 'info', path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat'), '--json'], path.join(dir, 'app'), 60_000);
    const info = JSON.parse(out) as { events?: number };
    expect(info.events).to.be.greaterThan(0);
  });
});
