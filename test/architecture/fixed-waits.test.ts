/**
 * Tests wait for the event, not for a time (docs/development.md). A fixed wait is left only where
 * time is the point, and it says which kind it is in a comment on its own line: `a fixed wait is
 * the point` (proving that nothing happens within a span, or a span being measured), `paces` (a
 * sensor, publisher or poller at a rate), `polls` (a condition, checked again after a pause) or
 * `bounds` (a limit on a wait for an event). This test lists them and fails on one that says nothing.
 */
import { expect } from 'chai';
import * as fs from 'fs';
import * as path from 'path';
import { sourceFiles } from '../helpers/source-graph';
import { makeTempDir, repoRoot } from '../helpers/paths';

const KINDS = ['a fixed wait is the point', 'paces', 'polls', 'bounds'] as const;
type WaitKind = (typeof KINDS)[number];

/** A call of `sleep(ms)` or a `setTimeout(r, ms)` promise: a wait for a time. */
const WAIT_RE = /\bsleep\(\s*[\w.]|setTimeout\(\s*r\w*\s*,/;

interface FixedWait {
  readonly where: string;
  readonly kind: WaitKind | undefined;
}

/** Every wait for a time in `files` (repository-relative), with the kind its comment names. */
function fixedWaits(files: readonly string[]): FixedWait[] {
  const waits: FixedWait[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(path.join(repoRoot, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      const code = line.split('//')[0];
      if (!WAIT_RE.test(code) || /^\s*(export |import |function |\*)/.test(line)) return;
      const comment = line.includes('//') ? line.slice(line.indexOf('//') + 2).trim() : '';
      waits.push({ where: `${file}:${i + 1}`, kind: KINDS.find((k) => comment.startsWith(k)) });
    });
  }
  return waits;
}

describe('architecture: tests wait for events, not for time', () => {
  it('finds a fixed wait, and one that does not say why (the check can fail)', () => {
    const dir = makeTempDir();
    try {
      const file = path.join(dir, 'x.test.ts');
      fs.writeFileSync(file, 'await sleep(10); // paces the sensor\nawait sleep(5);\nconst ok = await waitFor(() => done);\n');
      const rel = path.relative(repoRoot, file);
      expect(fixedWaits([rel]).map((w) => w.kind)).to.deep.equal(['paces', undefined]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every fixed wait in test/ names why time is the point', () => {
    const waits = fixedWaits(sourceFiles(['test']).filter((f) => f !== 'test/helpers/time.ts' && f !== 'test/architecture/fixed-waits.test.ts'));
    const count = (k: WaitKind): number => waits.filter((w) => w.kind === k).length;
    console.log(`      ${count('a fixed wait is the point') + count('paces')} fixed waits (${count('a fixed wait is the point')} where time is the point, ${count('paces')} pacing); ${count('polls')} polls, ${count('bounds')} bounds`);
    expect(waits.filter((w) => w.kind === undefined).map((w) => w.where), 'fixed waits without their reason').to.deep.equal([]);
  });
});
