/**
 * `npm test`'s first step on a fresh machine: nats-server, Chromium and python3-numpy installed from
 * Debian's packages as root, otherwise one line with the exact command and exit 1; the AEStream
 * partner built by ../shared/peers/build-aestream.sh (a failure is one line); a missing ../shared is
 * one line and no failure. Run against a PATH of stand-ins (id, apt-get), so nothing is installed.
 */
import { expect } from 'chai';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { makeTempDir, repoRoot } from '../helpers/paths';

const SCRIPT = path.join(repoRoot, 'scripts', 'test-prerequisites.sh');

describe('scripts/test-prerequisites.sh (npm test on a fresh machine)', () => {
  let dir: string;
  let bin: string;
  beforeEach(() => {
    dir = makeTempDir();
    bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    for (const tool of ['dirname', 'mkdir', 'touch', 'chmod']) fs.symlinkSync(spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), path.join(bin, tool));
    fs.mkdirSync(path.join(dir, 'shared', 'recordings'), { recursive: true });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  function fake(name: string, body: string): void {
    fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  }
  function run(env: Record<string, string> = {}) {
    const r = spawnSync('/bin/bash', [SCRIPT], {
      encoding: 'utf8',
      env: { PATH: bin, CHROMIUM_PATH: path.join(dir, 'no-chromium'), SPIKESTREAM_SHARED: path.join(dir, 'shared'), ...env },
    });
    return { code: r.status, lines: r.stderr.trim() === '' ? [] : r.stderr.trim().split('\n') };
  }

  it('as a user without them: one line with the exact command, exit 1', () => {
    fake('id', 'echo 1000');
    expect(run()).to.deep.equal({
      code: 1,
      lines: [
        'npm test: the broker, viewer and live-input tests need nats-server chromium python3-numpy: run  sudo apt-get install -y nats-server chromium python3-numpy  (or npm run test:unit for the tests that need none)',
      ],
    });
  });

  it('as root: installs the missing Debian packages with apt-get, then goes on', () => {
    fake('id', 'echo 0');
    fake('apt-get', `echo "$@" >> ${dir}/apt.log`);
    fake('nats-server', 'true');
    fake('python3', 'true');
    expect(run()).to.deep.equal({ code: 0, lines: ['npm test: installing chromium (Debian packages) for the broker, viewer and live-input tests'] });
    expect(fs.readFileSync(path.join(dir, 'apt.log'), 'utf8')).to.equal('update -qq\ninstall -y -qq --no-install-recommends chromium\n');
  });

  it("builds the AEStream partner with the peers' own script; a failed build is one line, and the rest runs", () => {
    fake('nats-server', 'true');
    fake('chromium', 'true');
    fake('python3', 'true');
    fs.mkdirSync(path.join(dir, 'shared', 'peers'));
    const script = path.join(dir, 'shared', 'peers', 'build-aestream.sh');
    fs.writeFileSync(script, `echo "$1" >> ${dir}/built.log; echo "$1/aestream"\n`);
    expect(run({ TMPDIR: dir })).to.deep.equal({ code: 0, lines: [] });
    expect(fs.readFileSync(path.join(dir, 'built.log'), 'utf8')).to.equal(`${dir}/spikestream-aestream-peer\n`);
    fs.writeFileSync(script, 'echo "flatc: not found"; exit 1\n');
    expect(run({ TMPDIR: dir })).to.deep.equal({ code: 0, lines: [`npm test: building the AEStream test partner failed (bash ${script}): flatc: not found; the live-input tests will fail`] });
  });

  it('with all present: silent; without ../shared: one line saying what it is, and no failure', () => {
    fake('nats-server', 'true');
    fake('chromium', 'true');
    fake('python3', 'true');
    expect(run()).to.deep.equal({ code: 0, lines: [] });
    const r = run({ SPIKESTREAM_SHARED: path.join(dir, 'nowhere') });
    expect(r.code).to.equal(0);
    expect(r.lines).to.have.length(1);
    expect(r.lines[0]).to.match(/^npm test: \.\.\/shared\/recordings is missing: it holds real DVS recordings made by others .* the rest run$/);
  });
});
