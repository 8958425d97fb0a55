/**
 * Rewrites the generated figure blocks of the README and docs/*.md from the bundled models' reports
 * (src/eval/docs-figures.ts), after scripts/regenerate-reports.sh:
 *
 *   node dist/scripts/docs-figures.js            (prints one JSON line: the files and blocks rewritten)
 */
import * as fs from 'fs';
import * as path from 'path';
import { figureBlocks, renderFigureBlocks } from '../src/eval/docs-figures';

/** The README and every Markdown file in docs/, from the repository root. */
export function docFiles(root: string): string[] {
  const docs = path.join(root, 'docs');
  return [path.join(root, 'README.md'), ...fs.readdirSync(docs).filter((f) => f.endsWith('.md')).map((f) => path.join(docs, f))];
}

function main(): void {
  const root = path.resolve(__dirname, '..', '..');
  const rewritten: { file: string; blocks: string[] }[] = [];
  for (const file of docFiles(root)) {
    const doc = fs.readFileSync(file, 'utf8');
    const blocks = figureBlocks(doc);
    if (blocks.length === 0) continue;
    const next = renderFigureBlocks(doc, path.join(root, 'models'));
    if (next !== doc) fs.writeFileSync(file, next);
    rewritten.push({ file: path.relative(root, file), blocks: blocks.map((b) => b.model) });
  }
  process.stdout.write(JSON.stringify({ name: 'docs-figures', rewritten }) + '\n');
}

if (require.main === module) main();
