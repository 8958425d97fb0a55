import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { makeTempDir, sharedRecording } from '../helpers/recordings';
import { runCommand as run } from '../helpers/commands';

const packageDir = path.resolve('packages', 'aedat-parser-ts');

/** The ```js blocks of the package README, which a user copies into an ES module. */
function readmeSnippets(): string[] {
  const readme = fs.readFileSync(path.join(packageDir, 'README.md'), 'utf8');
  return [...readme.matchAll(/^```js\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** The README's file names, as real recordings from ../shared (copied into the temporary app, never into the repository). */
const README_FILES: Record<string, string> = {
  'recording.aedat4': 'dvs128_dv_dvSave-2024_06_20_16_13_00.aedat4',
  'recording.aedat': 'dvs128_jaer_alex_walking_again.aedat',
  'recording.raw': 'prophesee_evt3_expelliarmus_sample.raw',
  'evt2.raw': 'prophesee_evt2_expelliarmus_sample.raw',
  'recording.dat': 'ncars_tonic_sample.dat',
  'digit.bin': 'nmnist_tonic_sample.bin',
};

describe('aedat-parser-ts: npm pack → install in an empty folder → require and import', function () {
  this.timeout(420_000);
  let dir: string;
  let app: string;
  before(() => {
    dir = makeTempDir('aedat-parser-ts-pack-');
    // dist/ is built by the root `prepare`; packing without scripts does not build it again.
    const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], packageDir);
    const tarball = path.join(dir, (JSON.parse(out) as { filename: string }[])[0].filename);
    app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball], app);
    for (const [name, recording] of Object.entries(README_FILES)) fs.copyFileSync(sharedRecording(recording), path.join(app, name));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ships the builds, the types, the browser bundle, README and LICENSE, and no tests or sources', () => {
    const installed = path.join(app, 'node_modules', 'aedat-parser-ts');
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect([pkg.version, pkg.license]).to.deep.equal(['0.1.0', 'MIT']);
    for (const f of ['dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/esm/node.js', 'dist/cjs/node.d.ts', 'dist/browser/aedat-parser-ts.min.js', 'README.md', 'LICENSE']) {
      expect(fs.existsSync(path.join(installed, f)), f).to.equal(true);
    }
    expect(fs.existsSync(path.join(installed, 'src')) || fs.existsSync(path.join(installed, 'test')), 'sources or tests shipped').to.equal(false);
    expect(Object.keys(pkg.dependencies as object)).to.deep.equal(['fzstd']);
  });

  it('require(): decodes a real AEDAT 4.0 file with the CommonJS build, core and node entries', () => {
    const script = `
      const { readFileSync } = require('fs');
      const { Aedat4Decoder, FormatError } = require('aedat-parser-ts');
      const { summarizeEventFile } = require('aedat-parser-ts/node');
      const dec = new Aedat4Decoder();
      const n = dec.push(new Uint8Array(readFileSync('recording.aedat4'))).length + dec.end().length;
      summarizeEventFile('recording.aedat4').then((s) => console.log(JSON.stringify({ n, summary: s.events, format: s.format, error: typeof FormatError })));`;
    const r = JSON.parse(run('node', ['--input-type=commonjs', '-e', script], app).trim()) as Record<string, unknown>;
    expect(r).to.deep.equal({ n: 149_629, summary: 149_629, format: 'aedat4', error: 'function' });
  });

  it('import: decodes a real EVT 3.0 file with the ES module build, core and node entries', () => {
    const script = `
      import { createDecoder, detectFormat } from 'aedat-parser-ts';
      import { readEventFile } from 'aedat-parser-ts/node';
      import { readFileSync } from 'node:fs';
      const bytes = new Uint8Array(readFileSync('recording.raw'));
      const dec = createDecoder(detectFormat(bytes, 'recording.raw'));
      let n = 0;
      for (let at = 0; at < bytes.length; at += 1000) n += dec.push(bytes.subarray(at, at + 1000)).length;
      n += dec.end().length;
      let m = 0;
      for await (const b of readEventFile('recording.raw')) m += b.length;
      console.log(JSON.stringify({ n, m, format: dec.format, geometry: dec.geometry }));`;
    const r = JSON.parse(run('node', ['--input-type=module', '-e', script], app).trim()) as Record<string, unknown>;
    expect(r).to.deep.equal({ n: 219_596, m: 219_596, format: 'evt3', geometry: { width: 1280, height: 720 } });
  });

  it("the README's examples run as they are, and type-check under strict tsc (nodenext, ESM and CommonJS, no skipLibCheck)", () => {
    const snippets = readmeSnippets();
    expect(snippets.length, 'js examples in the README').to.be.at.least(8);
    snippets.forEach((code, i) => {
      fs.writeFileSync(path.join(app, `readme-${i}.mjs`), code);
      expect(run('node', [`readme-${i}.mjs`], app, 120_000), `README example ${i} prints`).to.match(/\S/);
    });
    fs.writeFileSync(
      path.join(app, 'esm.mts'),
      "import { createDecoder, type EventBatch } from 'aedat-parser-ts';\nimport { readEventFile } from 'aedat-parser-ts/node';\nexport const f = async (p: string): Promise<EventBatch[]> => { const out: EventBatch[] = []; for await (const b of readEventFile(p)) out.push(b); createDecoder('evt3'); return out; };\n",
    );
    fs.writeFileSync(path.join(app, 'cjs.cts'), "import { Aedat4Decoder } from 'aedat-parser-ts';\nimport { indexAedat3File } from 'aedat-parser-ts/node';\nexport const g = (): [Aedat4Decoder, typeof indexAedat3File] => [new Aedat4Decoder(), indexAedat3File];\n");
    fs.writeFileSync(
      path.join(app, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, types: ['node'] }, files: ['esm.mts', 'cjs.cts'] }),
    );
    fs.symlinkSync(path.resolve('node_modules', '@types'), path.join(app, 'node_modules', '@types'));
    run(process.execPath, [path.resolve('node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], app, 240_000);
  });
});
