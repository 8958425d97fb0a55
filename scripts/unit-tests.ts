/**
 * `npm run test:unit`: the tests that need nothing outside the repository — no nats-server, no
 * Chromium, no ../shared recordings, no npm registry, from test/ and from each workspace package's
 * test/. A test file is left out when it lives in a broker/ (nats-server) or package/ (npm install)
 * folder, or when its source uses what only the whole suite provides (the markers below). Prints what it runs, then runs mocha on those files.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** Folders whose every test needs an outside program or the registry. */
const OUTSIDE_FOLDERS = ['broker', 'package'];
/** Source text that marks a test file needing ../shared (real recordings, the live partners of ../shared/peers) or Chromium. */
const OUTSIDE_MARKERS = /\b(sharedRecording|readSharedRecording|sharedDir|checkRealRecording|aestreamBinary|faerySender|puppeteer|findChromium|launchBrowser)\b|from '\.\/browser'/;

export interface UnitSelection {
  /** Compiled test files to run, relative to the repository root. */
  readonly run: string[];
  /** Test sources left out, relative to the repository root. */
  readonly leftOut: string[];
}

export function selectUnitTests(root: string): UnitSelection {
  const run: string[] = [];
  const leftOut: string[] = [];
  for (const testRoot of testRoots(root)) {
    for (const rel of testSources(path.join(root, testRoot))) {
      const source = fs.readFileSync(path.join(root, testRoot, rel), 'utf8');
      const outside = OUTSIDE_FOLDERS.includes(rel.split(path.sep)[0]) || OUTSIDE_MARKERS.test(source);
      if (outside) leftOut.push(path.join(testRoot, rel));
      else run.push(path.join('dist', testRoot, rel.replace(/\.ts$/, '.js')));
    }
  }
  return { run, leftOut };
}

/** test/ and the tests of every workspace package (packages/NAME/test), repository-relative. */
function testRoots(root: string): string[] {
  const packages = path.join(root, 'packages');
  const own = fs.existsSync(packages) ? fs.readdirSync(packages).map((name) => path.join('packages', name, 'test')) : [];
  return ['test', ...own.filter((dir) => fs.existsSync(path.join(root, dir)))];
}

function testSources(dir: string, prefix = ''): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? testSources(path.join(dir, e.name), path.join(prefix, e.name)) : e.name.endsWith('.test.ts') ? [path.join(prefix, e.name)] : []))
    .sort();
}

function main(): void {
  const root = path.resolve(__dirname, '..', '..');
  const { run, leftOut } = selectUnitTests(root);
  process.stderr.write(`test:unit: ${run.length} test files; ${leftOut.length} left out (they need ../shared, nats-server, Chromium or the npm registry: npm test runs them)\n`);
  const mocha = require.resolve('mocha/bin/mocha.js', { paths: [root] });
  const r = spawnSync(process.execPath, [mocha, ...process.argv.slice(2), ...run], { cwd: root, stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

if (require.main === module) main();
