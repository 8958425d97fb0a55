import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { selectUnitTests } from '../../scripts/unit-tests';
import { makeTempDir, repoRoot } from '../helpers/paths';

describe('scripts/unit-tests (npm run test:unit)', () => {
  it('leaves out what needs nats-server, Chromium, ../shared or the registry, and keeps the rest', () => {
    const root = makeTempDir();
    try {
      const write = (rel: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(root, 'test', rel)), { recursive: true });
        fs.writeFileSync(path.join(root, 'test', rel), text);
      };
      write('broker/x.test.ts', 'anything');
      write('package/y.test.ts', 'anything');
      write('formats/real.test.ts', "const f = sharedRecording('a.aedat');");
      write('viewer/page.test.ts', "import { findChromium } from './browser';");
      write('formats/csv.test.ts', "import { expectSameEvents } from '../helpers/decode';");
      write('helpers/paths.ts', 'export const sharedDir = 1;');
      const s = selectUnitTests(root);
      expect(s.run).to.deep.equal([path.join('dist', 'test', 'formats', 'csv.test.js')]);
      expect(s.leftOut.sort()).to.deep.equal(['test/broker/x.test.ts', 'test/formats/real.test.ts', 'test/package/y.test.ts', 'test/viewer/page.test.ts'].map((p) => p.split('/').join(path.sep)));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });

  it('on this repository: the viewer page, the broker and the real-file tests are left out, the aedat-parser-ts unit tests are in; every file it runs exists once built', () => {
    const s = selectUnitTests(repoRoot);
    expect(s.leftOut).to.include.members([path.join('test', 'viewer', 'viewer-page.test.ts'), path.join('packages', 'aedat-parser-ts', 'test', 'fuzz.test.ts')]);
    expect(s.run, "the workspace package's own tests are run too").to.include(path.join('dist', 'packages', 'aedat-parser-ts', 'test', 'csv.test.js'));
    for (const f of s.run) expect(fs.existsSync(path.join(repoRoot, f)), f).to.equal(true);
  });
});
