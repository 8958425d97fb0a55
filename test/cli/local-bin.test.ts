/**
 * The README's first command-line call runs the built CLI from the repository at once: `./spikestream`
 * (npx would first install the folder into its cache and rebuild it).
 */
import { expect } from 'chai';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeTempDir, repoRoot } from '../helpers/paths';

describe('./spikestream in the repository', function () {
  this.timeout(60_000);

  it('is executable and runs the built CLI', () => {
    const bin = path.join(repoRoot, 'spikestream');
    expect(fs.statSync(bin).mode & 0o111, 'executable').to.not.equal(0);
    const r = spawnSync(bin, ['--version'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal((JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version);
  });

  it('without a build: one line saying how to build, exit 1', () => {
    const dir = makeTempDir();
    try {
      fs.copyFileSync(path.join(repoRoot, 'spikestream'), path.join(dir, 'spikestream'));
      const r = spawnSync(process.execPath, [path.join(dir, 'spikestream'), '--help'], { encoding: 'utf8' });
      expect([r.status, r.stderr]).to.deep.equal([1, 'spikestream: dist/ is missing: run npm run build (npm ci builds it once)\n']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is the README's first command-line call, and that call prints the commands", () => {
    const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const first = /`(\S*spikestream [^`]*)`/.exec(readme.replace(/```[\s\S]*?```/g, ''));
    expect(first?.[1]).to.equal('./spikestream --help');
    const r = spawnSync(path.join(repoRoot, 'spikestream'), ['--help'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^Usage: spikestream /);
    for (const command of ['start', 'serve', 'replay', 'train']) expect(r.stdout).to.contain(`\n  ${command} `);
  });

  it('npm start: after npm\'s own header, the first line is the viewer\'s URL', async () => {
    const child = spawn('npm', ['start', '--', '--once', '--asap', '--port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let text = '';
    child.stderr.on('data', (d: Buffer) => (text += d.toString('utf8')));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          text += d.toString('utf8');
          const own = text.split('\n').filter((l, i, all) => i < all.length - 1 && l.trim() !== '' && !l.startsWith('> '));
          if (own.length > 0) resolve(own[0]);
        });
        child.once('exit', () => reject(new Error(`npm start ended before printing: ${text}`)));
      });
      expect(first).to.match(/^viewer: http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(text).to.contain('> ./spikestream start --once --asap');
    } finally {
      process.kill(-child.pid!, 'SIGINT');
    }
  });
});
