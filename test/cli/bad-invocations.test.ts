/**
 * What a newcomer meets when a command goes wrong: for each bad invocation, the built CLI exits
 * with the documented code (2 usage, 1 bad input or failure), writes exactly one line to stderr
 * that says what is wrong (with the path or option), never a stack trace, and never hangs.
 */
import { expect } from 'chai';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { makeTempDir, repoRoot, sharedRecording } from '../helpers/paths';
import { runSpikestream, type CliRun } from '../helpers/cli';

const MAIN = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const TIMEOUT_MS = 60_000;

interface Case {
  readonly args: readonly string[];
  readonly code: 1 | 2;
  /** What the one stderr line must say. */
  readonly says: RegExp;
}

/** Runs the CLI without blocking the test process (several at once); a run past the timeout is killed and reported as a hang (code -1). */
function run(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

async function runAll(cases: readonly Case[], parallel: number): Promise<CliRun[]> {
  const results: CliRun[] = new Array(cases.length);
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const i = next++;
      results[i] = await run(cases[i].args);
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return results;
}

describe('spikestream: bad invocations (exit code, one line on stderr, no stack trace, no hang)', function () {
  this.timeout(5 * TIMEOUT_MS);
  const gestures = path.join(repoRoot, 'recordings', 'gestures');
  const mnist = path.join(repoRoot, 'recordings', 'saccades', 'mnist');
  let dir: string;
  let busy: net.Server;
  let cases: Case[];
  let results: CliRun[];

  before(async () => {
    dir = makeTempDir();
    fs.writeFileSync(path.join(dir, 'empty.aedat'), '');
    fs.writeFileSync(path.join(dir, 'five.bin'), 'abcde');
    fs.writeFileSync(path.join(dir, 'junk.dat'), 'this is not an event file at all');
    fs.mkdirSync(path.join(dir, 'only240'));
    fs.copyFileSync(sharedRecording('davis240c_IMU_translBoxes.aedat'), path.join(dir, 'only240', 'davis240.aedat'));
    // A 34×34 frames file for a 32×32 model: the calibrate size mismatch.
    const frames = runSpikestream(['frames', mnist, '--split', 'test', '--limit', '2', '--out', path.join(dir, 'mnist.ssf'), '--json']);
    expect(frames.code, frames.stderr).to.equal(0);
    // Gesture frames in two encodings (no bundled model reads time-split ones): the encoding mismatches.
    for (const [name, encoding] of [['split.ssf', 'time-split'], ['pol.ssf', 'polarity']]) {
      const made = runSpikestream(['frames', gestures, '--split', 'test', '--limit', '2', '--encoding', encoding, '--out', path.join(dir, name), '--json']);
      expect(made.code, made.stderr).to.equal(0);
    }
    busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const busyPort = (busy.address() as net.AddressInfo).port;
    const davis240 = sharedRecording('davis240c_IMU_translBoxes.aedat');
    const nmnist = sharedRecording('nmnist_tonic_sample.bin');
    const headerOnly = sharedRecording('davis346red_header_only_tonic.aedat');
    const t = (name: string) => path.join(dir, name);
    cases = [
      // paths
      { args: ['info', 'recordings'], code: 2, says: /recordings is a folder; expected an event file/ },
      { args: ['convert', 'recordings', t('x.aedat')], code: 2, says: /recordings is a folder/ },
      { args: ['info', t('missing.aedat')], code: 2, says: /missing\.aedat does not exist/ },
      { args: ['convert', t('missing.aedat'), t('x.aedat')], code: 2, says: /missing\.aedat does not exist/ },
      { args: ['convert', nmnist, path.join(dir, 'no-such-folder', 'x.aedat')], code: 2, says: /no-such-folder does not exist/ },
      { args: ['info', t('empty.aedat')], code: 1, says: /empty\.aedat is empty/ },
      { args: ['info', t('five.bin')], code: 1, says: /five\.bin is too short to be an event file \(5 B\)/ },
      { args: ['info', t('junk.dat')], code: 1, says: new RegExp(`${t('junk.dat').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*unrecognised`) },
      { args: ['info', nmnist, '--format', 'foo'], code: 2, says: /unknown format 'foo' \(--format takes aedat2, aedat3, aedat4, nmnist, prophesee-dat, evt2, evt3 or csv\)/ },
      { args: ['convert', nmnist, t('x.mp4')], code: 2, says: /cannot tell the output format/ },
      // numbers and choices
      { args: ['replay', gestures, '--speed', '-1'], code: 2, says: /--speed must be a number > 0, got '-1'/ },
      { args: ['replay', gestures, '--speed', '0'], code: 2, says: /--speed must be a number > 0, got '0'/ },
      { args: ['replay', gestures, '--slots', '1.5'], code: 2, says: /--slots must be an integer ≥ 1, got '1\.5'/ },
      { args: ['replay', gestures, '--theta', '1.5'], code: 2, says: /--theta must be a number 0–1/ },
      { args: ['replay', gestures, '--split', 'dev'], code: 2, says: /--split must be train, test or all, got 'dev'/ },
      { args: ['replay', nmnist, '--roi', '1,2,3'], code: 2, says: /--roi must be x,y,w,h/ },
      { args: ['replay', nmnist, '--fit', 'stretch'], code: 2, says: /--fit must be crop, scale or pad, got 'stretch'/ },
      { args: ['start', '--once', '--port', '99999'], code: 2, says: /--port must be an integer 0–65535, got '99999'/ },
      { args: ['serve', '--port', '-5'], code: 2, says: /--port must be an integer 0–65535/ },
      { args: ['train', '--epochs', '0', '--data', 'x.ssf', '--out', t('m')], code: 2, says: /--epochs must be an integer ≥ 1, got '0'/ },
      { args: ['train', '--epochs', 'abc', '--data', 'x.ssf', '--out', t('m')], code: 2, says: /--epochs must be an integer ≥ 1, got 'abc'/ },
      // the command line itself
      { args: ['frobnicate'], code: 2, says: /unknown command 'frobnicate'/ },
      { args: ['info'], code: 2, says: /missing required argument 'file' \(see spikestream info --help\)/ },
      { args: ['replay', gestures, '--bogus'], code: 2, says: /unknown option '--bogus' \(see spikestream replay --help\)/ },
      // models and frames
      { args: ['train', '--data', davis240, '--out', t('m')], code: 1, says: /not a frames file .*spikestream frames/ },
      { args: ['train', '--data', t('missing.ssf'), '--out', t('m')], code: 2, says: /missing\.ssf does not exist/ },
      { args: ['calibrate', '--model', '/nonexistent', '--val', t('mnist.ssf')], code: 2, says: /\/nonexistent does not exist/ },
      { args: ['calibrate', '--model', 'recordings', '--val', t('mnist.ssf')], code: 2, says: /recordings is not a spikestream model/ },
      { args: ['calibrate', '--model', 'models/gesture', '--val', t('mnist.ssf')], code: 2, says: /frames are 34×34, but the model .* takes 32×32/ },
      { args: ['evaluate', '--model', 'models/gesture', '--data', t('mnist.ssf'), '--out', t('report')], code: 2, says: /frames are 34×34/ },
      { args: ['replay', gestures, '--model', '/nonexistent'], code: 2, says: /\/nonexistent does not exist/ },
      { args: ['calibrate', '--model', 'models/gesture', '--val', t('split.ssf')], code: 2, says: /split\.ssf: frames are encoded 'time-split', but the model .* takes '[a-z-]+' \(bin the dataset again with spikestream frames … --encoding / },
      { args: ['train', '--data', t('pol.ssf'), '--val', t('split.ssf'), '--out', t('m')], code: 2, says: /--val .*split\.ssf: its frames are encoded otherwise than --data's \('polarity'\)/ },
      { args: ['frames', gestures, '--split', 'test', '--encoding', 'time-ramp', '--dtype', 'uint8', '--out', t('r.ssf')], code: 2, says: /--dtype uint8 holds whole counts only: time-ramp frames carry fractional weights/ },
      { args: ['frames', gestures, '--split', 'test', '--ramp-steps', '4', '--out', t('r.ssf')], code: 2, says: /--ramp-steps is for --encoding time-ramp/ },
      { args: ['frames', gestures, '--split', 'test', '--encoding', 'gray', '--out', t('r.ssf')], code: 2, says: /--encoding must be .*polarity.*time-split.*time-ramp.*, got 'gray'/ },
      // datasets
      { args: ['frames', gestures, '--split', 'train', '--out', t('f.ssf')], code: 1, says: /has no train samples \(try --split test or all\)/ },
      { args: ['frames', gestures, '--split', 'test', '--out', path.join(dir, 'nope', 'f.ssf')], code: 2, says: /nope does not exist/ },
      { args: ['replay', 'recordings'], code: 1, says: /recordings is not a dataset folder: expected the DVS128 Gesture layout .* or the N-MNIST layout/ },
      { args: ['dataset', 'info', 'recordings'], code: 1, says: /recordings is not a dataset folder/ },
      { args: ['replay', headerOnly, '--fit', 'crop'], code: 1, says: /has no events: nothing to replay/ },
      // sensor sizes
      { args: ['replay', davis240], code: 2, says: /a 240×180 sensor does not match the model's 128×128 input: add --fit scale or --fit crop/ },
      { args: ['replay', mnist], code: 2, says: /34×34 sensor .* add --fit pad/ },
      { args: ['replay', davis240, '--fit', 'pad'], code: 2, says: /--fit pad cannot fit .* use --fit scale or --fit crop/ },
      { args: ['start', '--once', '--asap', '--recordings', t('only240')], code: 2, says: /no recording in .*only240 fits the model: davis240\.aedat: .*--fit scale/ },
      // the network
      { args: ['serve', '--port', String(busyPort)], code: 1, says: new RegExp(`port ${busyPort} is already in use: choose another with --port`) },
    ];
    results = await runAll(cases, 4);
  });

  after(() => {
    busy?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every case: the documented exit code, one clear line on stderr, no stack trace, no hang', () => {
    const failures: string[] = [];
    cases.forEach((c, i) => {
      const r = results[i];
      const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
      const what = `spikestream ${c.args.join(' ')}`;
      if (r.code === -1) failures.push(`${what}: hung (killed after ${TIMEOUT_MS / 1000} s)`);
      else if (r.code !== c.code) failures.push(`${what}: exit ${r.code}, expected ${c.code}; stderr: ${r.stderr}`);
      if (lines.length !== 1) failures.push(`${what}: ${lines.length} lines on stderr, expected 1: ${JSON.stringify(r.stderr)}`);
      if (/^\s+at /m.test(r.stderr)) failures.push(`${what}: stack trace on stderr`);
      if (lines.length > 0 && !lines[0].startsWith('spikestream: ')) failures.push(`${what}: the line does not start with 'spikestream: ': ${lines[0]}`);
      if (!c.says.test(r.stderr)) failures.push(`${what}: stderr does not match ${c.says}: ${JSON.stringify(r.stderr)}`);
    });
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });

  it('--version prints the package version; SPIKESTREAM_DEBUG=1 adds the stack for a bug report', () => {
    const v = runSpikestream(['--version']);
    expect(v.code).to.equal(0);
    expect(v.stdout.trim()).to.equal(JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version);
    const d = runSpikestream(['replay', gestures, '--slots', '0'], { env: { SPIKESTREAM_DEBUG: '1' } });
    expect(d.code).to.equal(2);
    expect(d.stderr).to.match(/^spikestream: --slots must be an integer ≥ 1/);
    expect(d.stderr).to.match(/^\s+at /m);
  });
});
