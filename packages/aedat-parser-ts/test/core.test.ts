import { expect } from 'chai';
import { buildSync } from 'esbuild';
import * as fs from 'fs';
import { builtinModules } from 'module';
import * as path from 'path';
import { latin1Decode, latin1DecodePortable, latin1Encode } from '../src/latin1';

const packageDir = path.resolve('packages', 'aedat-parser-ts');
/** The target of issue 23: the minified core, without fzstd, for a browser page. */
const CORE_BUNDLE_LIMIT_BYTES = 60 * 1024;

/** The module specifiers of a compiled ES module file (static imports and re-exports). */
function esmSpecifiers(file: string): string[] {
  return [...fs.readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
}

function filesUnder(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name), ext) : e.name.endsWith(ext) ? [path.join(dir, e.name)] : []));
}

describe('aedat-parser-ts: a core for every runtime', () => {
  it('the core bundle for browsers (minified, fzstd left out) is at most 60 KB, and builds with no Node built-in to resolve', () => {
    const out = buildSync({
      entryPoints: [path.join(packageDir, 'dist', 'esm', 'index.js')],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      external: ['fzstd'],
      write: false,
      logLevel: 'silent',
    });
    const bytes = out.outputFiles[0].contents.length;
    console.log(`      core bundle: ${bytes} B minified (limit ${CORE_BUNDLE_LIMIT_BYTES} B)`);
    expect(bytes).to.be.within(10_000, CORE_BUNDLE_LIMIT_BYTES);
  });

  it('a Node built-in in the core would fail that build (the check can fail)', () => {
    expect(() =>
      buildSync({ stdin: { contents: "import { readFileSync } from 'fs'; console.log(readFileSync);", resolveDir: packageDir }, bundle: true, platform: 'browser', write: false, logLevel: 'silent' }),
    ).to.throw(/Could not resolve "fs"/);
  });

  it('the core imports only its own files and fzstd; only node.js and node/ import Node built-ins', () => {
    const esm = path.join(packageDir, 'dist', 'esm');
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const nodeSide: string[] = [];
    for (const file of filesUnder(esm, '.js')) {
      const rel = path.relative(esm, file);
      const outside = esmSpecifiers(file).filter((s) => !s.startsWith('.'));
      const isNodeEntry = rel === 'node.js' || rel.startsWith(`node${path.sep}`);
      if (isNodeEntry) {
        nodeSide.push(rel);
        expect(outside.every((s) => builtins.has(s)), `${rel}: ${outside.join(', ')}`).to.equal(true);
      } else {
        expect(outside.filter((s) => s !== 'fzstd'), `${rel} imports`).to.deep.equal([]);
      }
    }
    expect(nodeSide.sort()).to.deep.equal(['node.js', path.join('node', 'aedat3-index.js'), path.join('node', 'read-file.js')].sort());
  });

  it('the sources import nothing from outside the package', () => {
    const src = path.join(packageDir, 'src');
    for (const file of filesUnder(src, '.ts')) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/from\s*'(\.[^']*)'/g)) {
        const target = path.resolve(path.dirname(file), m[1]);
        expect(target.startsWith(src + path.sep), `${path.relative(packageDir, file)} imports ${m[1]}`).to.equal(true);
      }
    }
  });

  it('latin1 text: one byte per character both ways, 0x80–0x9F included (not windows-1252), with and without Node\'s Buffer', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const text = latin1Decode(bytes);
    expect(text.length).to.equal(256);
    expect([text.charCodeAt(0x80), text.charCodeAt(0x9f), text.charCodeAt(0xff)]).to.deep.equal([0x80, 0x9f, 0xff]);
    expect(Array.from(latin1Encode(text))).to.deep.equal(Array.from(bytes));
    const long = new Uint8Array(20_000).fill(0x41);
    expect(latin1Decode(long, 5, 19_999)).to.equal('A'.repeat(19_994));
    // Node's Buffer (used when present) and the portable decoder of browsers agree on every byte.
    expect(latin1DecodePortable(bytes)).to.equal(text);
    expect(latin1DecodePortable(long, 5, 19_999)).to.equal('A'.repeat(19_994));
    const shifted = new Uint8Array(bytes.buffer, 3, 200);
    expect(latin1DecodePortable(shifted, 7, 150)).to.equal(latin1Decode(shifted, 7, 150));
  });
});
