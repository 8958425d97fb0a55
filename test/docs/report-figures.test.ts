import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { bundledFigures, figureBlocks, renderFigureBlocks } from '../../src/eval/docs-figures';
import { docFiles } from '../../scripts/docs-figures';
import { repoRoot } from '../helpers/paths';

const root = repoRoot;
const models = path.join(root, 'models');

describe('docs: the bundled models’ figures match their reports', () => {
  it('every generated block in the README and docs/ is what its report renders now (node dist/scripts/docs-figures.js rewrites them)', () => {
    let blocks = 0;
    for (const file of docFiles(root)) {
      for (const b of figureBlocks(fs.readFileSync(file, 'utf8'))) {
        blocks++;
        expect(b.content, `${path.relative(root, file)}: the ${b.model} figures differ from models/${b.model}/report`).to.equal(bundledFigures(models, b.model));
      }
    }
    // The three bundled models are quoted somewhere: the check cannot pass by having nothing to check.
    const quoted = new Set(docFiles(root).flatMap((f) => figureBlocks(fs.readFileSync(f, 'utf8')).map((b) => b.model)));
    expect([...quoted].sort()).to.deep.equal(['gesture', 'saccade-fashion', 'saccade-mnist']);
    expect(blocks).to.be.at.least(3);
  });

  it('a block that no longer matches its report is found (the check can fail)', () => {
    const doc = `intro\n<!-- figures: gesture -->\n${bundledFigures(models, 'gesture')}\n<!-- /figures -->\nafter\n`;
    expect(renderFigureBlocks(doc, models)).to.equal(doc);
    const stale = doc.replace(/\| \*\*(\d+)\.(\d+)\*\*/, '| **$1.9$2**');
    expect(stale).to.not.equal(doc);
    const [b] = figureBlocks(stale);
    expect(b.content).to.not.equal(bundledFigures(models, 'gesture'));
    expect(renderFigureBlocks(stale, models)).to.equal(doc);
  });
});
