import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import * as defaults from '../../src/defaults';
import { repoRoot } from '../helpers/paths';

describe('architecture: one defaults module', () => {
  it('docs/architecture.md lists every default of src/defaults.ts with its value', () => {
    const text = fs.readFileSync(path.join(repoRoot, 'docs', 'architecture.md'), 'utf8');
    const table = new Map<string, string>();
    for (const m of text.matchAll(/^\| `(DEFAULT_[A-Z_]+)` \| `?([^`|]+?)`? \|/gm)) table.set(m[1], m[2].trim());
    const actual = Object.entries(defaults).map(([k, v]) => [k, String(v)]);
    expect(actual.length).to.be.greaterThan(5);
    expect([...table.entries()].sort()).to.deep.equal(actual.sort());
  });

  it('no file of src/ or streams/ spells the queue size, overflow policy or slot count itself', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of fs.readdirSync(path.join(repoRoot, dir))) {
        const rel = path.posix.join(dir, name);
        if (fs.statSync(path.join(repoRoot, rel)).isDirectory()) walk(rel);
        else if (rel.endsWith('.ts') && rel !== 'src/defaults.ts') {
          const text = fs.readFileSync(path.join(repoRoot, rel), 'utf8');
          // A default is `?? value` or `= value` in a parameter list; comments and the queue's own policy checks are fine.
          if (/(Capacity\w*|capacity\w*|MaxBuffered\w*|maxBuffered\w*) \?\? 1 << 20|\?\? 'drop-oldest'|slots \?\? 32|slots = 32|\?\? 'typed'|parseIntOption\('--slots', 1\), 32\)/.test(text)) offenders.push(rel);
        }
      }
    };
    walk('src');
    walk('streams');
    expect(offenders).to.deep.equal([]);
  });
});
