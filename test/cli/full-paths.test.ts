/**
 * Error lines name files by their full path, whatever the user typed (a relative path is
 * ambiguous once the line is read in a log or a bug report).
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeTempDir, repoRoot } from '../helpers/paths';

const MAIN = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

function runIn(cwd: string, args: readonly string[]): { code: number; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, stderr: r.stderr };
}

describe('spikestream: error lines give the full path of a file named relatively', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 'empty.aedat'), '');
    fs.writeFileSync(path.join(dir, 'junk.dat'), 'this is not an event file at all');
    // A real AEDAT 3.1 file cut inside a packet: corrupt past its header.
    const whole = fs.readFileSync(path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat'));
    fs.writeFileSync(path.join(dir, 'cut.aedat'), whole.subarray(0, 100_003));
    fs.mkdirSync(path.join(dir, 'sub'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cases: [string, string[], RegExp][] = [
    ['an empty file', ['info', 'empty.aedat'], /^spikestream: (?<p>\S+empty\.aedat) is empty$/],
    ['a file of no known format', ['info', 'junk.dat'], /^spikestream: bad input: (?<p>\S+junk\.dat): detect byte 0: unrecognised/],
    ['a corrupt file (byte offset and reason)', ['info', 'cut.aedat'], /^spikestream: bad input: (?<p>\S+cut\.aedat): aedat3 byte \d+: /],
    ['a missing file', ['info', 'sub/../missing.aedat'], /^spikestream: (?<p>\S+missing\.aedat) does not exist$/],
    ['a folder for a file', ['info', 'sub'], /^spikestream: (?<p>\S+sub) is a folder/],
  ];
  for (const [what, args, says] of cases) {
    it(what, () => {
      const r = runIn(dir, args);
      expect(r.code, r.stderr).to.be.oneOf([1, 2]);
      const lines = r.stderr.trim().split('\n').filter((l) => !/TF\.js backend/.test(l));
      expect(lines, r.stderr).to.have.length(1);
      const m = says.exec(lines[0]);
      expect(m, lines[0]).to.not.equal(null);
      expect(m!.groups!.p).to.equal(path.join(fs.realpathSync(dir), args[1]).replace(/\/sub\/\.\.\//, '/'));
    });
  }
});
