import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { BENCHMARKS } from '../../bench/run';
import { repoRoot } from '../helpers/paths';

describe('bench runner', () => {
  const scripts = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

  it('offers exactly the benchmarks that have a bench:<name> script, and each is documented in docs/benchmarks.md', () => {
    const named = Object.keys(scripts).filter((s) => s.startsWith('bench:')).map((s) => s.slice('bench:'.length));
    expect([...BENCHMARKS].sort()).to.deep.equal(named.sort());
    const doc = fs.readFileSync(path.join(repoRoot, 'docs', 'benchmarks.md'), 'utf8');
    for (const b of BENCHMARKS) {
      expect(fs.existsSync(path.join(repoRoot, 'bench', `${b}.ts`)), b).to.equal(true);
      expect(doc, b).to.contain(`npm run bench:${b}`);
    }
  });

  it('names the benchmarks, and no helper module, when the name is missing or unknown', () => {
    const r = spawnSync(process.execPath, [path.join(__dirname, '..', '..', 'bench', 'run.js'), 'cameras'], { encoding: 'utf8' });
    expect(r.status).to.equal(2);
    expect(r.stderr.trim()).to.equal(`usage: npm run bench <${BENCHMARKS.join('|')}> [options]`);
    expect(r.stderr).to.not.contain('cameras');
  });
});
