/**
 * After `npm ci`, `npx spikestream …` in the repository runs the built CLI from
 * node_modules/.bin (linked by `prepare`), never an install of the folder into npx's cache.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { linkLocalBin } from '../../scripts/link-local-bin';
import { makeTempDir, repoRoot } from '../helpers/paths';

describe('npx spikestream in the repository', function () {
  this.timeout(60_000);

  it('node_modules/.bin/spikestream is the built CLI, and npx runs it without installing anything', () => {
    const link = path.join(repoRoot, 'node_modules', '.bin', 'spikestream');
    expect(fs.realpathSync(link)).to.equal(fs.realpathSync(path.join(repoRoot, 'dist', 'src', 'cli', 'main.js')));
    // --no: npx may not install; it fails unless the command is found locally.
    const r = spawnSync('npm', ['exec', '--no', '--', 'spikestream', '--version'], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).to.equal(0);
    const version = (JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    expect(r.stdout.trim()).to.equal(version);
  });

  it('linkLocalBin links the package bin into node_modules/.bin, replacing what was there, and makes it executable', () => {
    const root = makeTempDir();
    try {
      fs.writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'tool', bin: { tool: 'dist/cli.js' } }));
      fs.mkdirSync(path.join(root, 'dist'));
      fs.writeFileSync(path.join(root, 'dist', 'cli.js'), '#!/usr/bin/env node\nconsole.log("hi")\n', { mode: 0o644 });
      fs.mkdirSync(path.join(root, 'node_modules', '.bin'), { recursive: true });
      fs.writeFileSync(path.join(root, 'node_modules', '.bin', 'tool'), 'stale');
      const link = linkLocalBin(root);
      expect(fs.readlinkSync(link)).to.equal(path.join('..', '..', 'dist', 'cli.js'));
      expect(fs.statSync(link).mode & 0o111).to.not.equal(0);
      expect(spawnSync(link, [], { encoding: 'utf8' }).stdout).to.equal('hi\n');
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
