import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { anchorsOf, brokenLinks, headingSlug, linksOf } from './markdown-links';
import { makeTempDir, repoRoot } from '../helpers/paths';

/** README.md and every Markdown file in docs/: the documents a user follows. */
function userDocs(): string[] {
  const docsDir = path.join(repoRoot, 'docs');
  const docs = fs.readdirSync(docsDir).filter((f) => f.endsWith('.md')).map((f) => path.join(docsDir, f));
  return [path.join(repoRoot, 'README.md'), ...docs];
}

describe('documentation links', () => {
  it('every relative link and anchor in README.md and docs/*.md resolves', () => {
    const broken = userDocs().flatMap(brokenLinks);
    expect(broken.map((b) => `${path.relative(repoRoot, b.file)}:${b.line} ${b.target}: ${b.reason}`)).to.deep.equal([]);
  });

  it('README.md is at most 200 lines and no line of the documents is over 200 characters', () => {
    expect(fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8').trimEnd().split('\n').length).to.be.at.most(200);
    const long = userDocs().flatMap((file) =>
      fs.readFileSync(file, 'utf8').split('\n').flatMap((line, i) => (line.length > 200 ? [`${path.relative(repoRoot, file)}:${i + 1} (${line.length})`] : [])),
    );
    expect(long).to.deep.equal([]);
  });

  it('the README links every docs/*.md file', () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const linked = new Set(linksOf(readme).map((l) => l.target.split('#')[0]));
    const unlinked = userDocs().slice(1).map((f) => `docs/${path.basename(f)}`).filter((f) => !linked.has(f));
    expect(unlinked).to.deep.equal([]);
  });
});

describe('markdown link checker', () => {
  let dir: string;
  before(() => {
    dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 'a.md'), '# Title\n\n## The viewer (`viewer/`, served at `/`)\n\n## Title\n\n```\n## not a heading\n```\n');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('slugs headings as GitHub does, repeats numbered', () => {
    expect(headingSlug('The viewer (`viewer/`, served at `/`)')).to.equal('the-viewer-viewer-served-at-');
    expect(headingSlug('Live answers: training for the stream')).to.equal('live-answers-training-for-the-stream');
    expect(headingSlug('Dynamic Confidence (`src/confidence/`)')).to.equal('dynamic-confidence-srcconfidence');
    expect([...anchorsOf(fs.readFileSync(path.join(dir, 'a.md'), 'utf8'))]).to.deep.equal(['title', 'the-viewer-viewer-served-at-', 'title-1']);
  });

  it('reports a missing file and a missing anchor, and skips links in code and to other sites', () => {
    const b = path.join(dir, 'b.md');
    const text = [
      '[ok](a.md#title-1) [self](#local) [web](https://example.com/x.md)',
      '## Local',
      '[gone](missing.md) [bad anchor](a.md#not-there) `[in code](nowhere.md)`',
      '```',
      '[fenced](nowhere.md)',
      '```',
    ].join('\n');
    fs.writeFileSync(b, text);
    expect(brokenLinks(b).map((x) => [x.line, x.target])).to.deep.equal([
      [3, 'missing.md'],
      [3, 'a.md#not-there'],
    ]);
  });
});
