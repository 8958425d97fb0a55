import { expect } from 'chai';
import { CommanderError } from 'commander';
import * as path from 'path';
import { reportFor, InputError, UsageError } from '../../src/cli/errors';
import { formatDecision, formatSummary, summarizeDecisions } from '../../src/cli/decisions';
import { fitAdvice, formatFitAdvice, parseRoi } from '../../src/cli/fit-options';
import { parseChoice, parseFormat, parseIntOption, parseNumberOption, parsePort, parseSpeed } from '../../src/cli/options';
import { formatBytes, formatCount, formatEventRate, formatTable } from '../../src/cli/output';
import { FormatError } from 'aedat-parser-ts';
import { FitError } from '../../streams/operators/fit';
import { makeDecision as decision } from '../helpers/decision-fixture';

describe('cli helpers: option parsers', () => {
  it('name the option, the rule and the value given', () => {
    expect(parseSpeed('2.5')).to.equal(2.5);
    expect(() => parseSpeed('0')).to.throw(UsageError, "--speed must be a number > 0, got '0'");
    expect(() => parseSpeed('-1')).to.throw(UsageError, "--speed must be a number > 0, got '-1'");
    expect(() => parseSpeed('')).to.throw(UsageError, /--speed must be a number/);
    expect(parsePort('0')).to.equal(0);
    expect(() => parsePort('99999')).to.throw(UsageError, "--port must be an integer 0–65535, got '99999'");
    expect(() => parseIntOption('--slots', 1)('1.5')).to.throw(UsageError, "--slots must be an integer ≥ 1, got '1.5'");
    expect(() => parseIntOption('--epochs', 1)('abc')).to.throw(UsageError, "--epochs must be an integer ≥ 1, got 'abc'");
    expect(parseNumberOption('--theta', { min: 0, max: 1 })('1')).to.equal(1);
    expect(() => parseNumberOption('--theta', { min: 0, max: 1 })('1.5')).to.throw(UsageError, '--theta must be a number 0–1');
    expect(() => parseChoice('--fit', ['crop', 'scale', 'pad'])('stretch')).to.throw(UsageError, "--fit must be crop, scale or pad, got 'stretch'");
    expect(parseFormat('evt3')).to.equal('evt3');
    expect(() => parseFormat('foo')).to.throw(UsageError, /aedat2, aedat3, aedat4, nmnist, prophesee-dat, evt2, evt3 or csv/);
  });

  it('--roi takes x,y,w,h', () => {
    expect(parseRoi('10, 20,128,96')).to.deep.equal({ x: 10, y: 20, width: 128, height: 96 });
    for (const bad of ['1,2,3', '1,2,3,0', '-1,0,5,5', 'a,b,c,d', '1.5,0,5,5']) expect(() => parseRoi(bad), bad).to.throw(UsageError, /--roi must be x,y,w,h/);
  });
});

describe('cli helpers: errors as one sentence and an exit code', () => {
  it('maps typed and Node system errors; never a stack', () => {
    expect(reportFor(new UsageError('bad'))).to.deep.equal({ message: 'bad', exitCode: 2 });
    expect(reportFor(new InputError('empty'))).to.deep.equal({ message: 'empty', exitCode: 1 });
    expect(reportFor(new FitError('needs --fit'))).to.deep.equal({ message: 'needs --fit', exitCode: 2 });
    expect(reportFor(new FormatError('aedat2', 12, 'truncated', '/a/b.aedat'))).to.deep.equal({ message: 'bad input: /a/b.aedat: aedat2 byte 12: truncated', exitCode: 1 });
    const sys = (code: string, extra: object) => Object.assign(new Error(`${code}: x`), { code, ...extra });
    expect(reportFor(sys('ENOENT', { path: '/x.aedat' }))).to.deep.equal({ message: '/x.aedat does not exist', exitCode: 2 });
    expect(reportFor(sys('EISDIR', { path: 'recordings' }))).to.deep.equal({ message: `${path.resolve('recordings')} is a folder, not a file`, exitCode: 2 });
    expect(reportFor(sys('EADDRINUSE', { port: 8080 })).message).to.equal('port 8080 is already in use: choose another with --port (0 = any free port)');
    expect(reportFor(sys('ERR_SOCKET_BAD_PORT', {})).exitCode).to.equal(2);
    expect(reportFor(new Error('first line\n    at somewhere'))).to.deep.equal({ message: 'first line', exitCode: 1 });
    expect(reportFor(new CommanderError(0, 'commander.helpDisplayed', '')).exitCode).to.equal(0);
    expect(reportFor(new CommanderError(1, 'commander.unknownOption', 'x')).exitCode).to.equal(2);
  });
});

describe('cli helpers: numbers people read', () => {
  it('thousands separators, byte sizes and event rates in ev/s, kev/s or Mev/s', () => {
    expect(formatCount(1234567)).to.equal('1,234,567');
    expect(formatCount(0.5)).to.equal('0.5');
    expect(formatBytes(599)).to.equal('599 B');
    expect(formatBytes(1_748_132)).to.equal('1.7 MiB (1,748,132 B)');
    expect(formatEventRate(2800)).to.equal('2.8 kev/s');
    expect(formatEventRate(13.9)).to.equal('14 ev/s');
    expect(formatEventRate(24_950_000)).to.equal('24.95 Mev/s');
    expect(formatTable(['n', 'name'], [[1234, 'a'], [5, 'bb']])).to.equal('    n  name\n1,234  a\n    5  bb');
  });
});

describe('cli helpers: decisions and their summary', () => {
  const classes = ['a', 'b', 'a much longer class name'];

  it('a decision line keeps its columns whatever the sample id and says which latency is sensor time', () => {
    const short = formatDecision(decision(), classes);
    const long = formatDecision(decision({ sampleId: 'a-very-long-recording-name-from-a-camera#12345', label: 2, className: classes[2], trueLabel: 0 }), classes);
    expect(short.indexOf('conf')).to.equal(long.indexOf('conf'));
    expect(short.indexOf('after')).to.equal(long.indexOf('after'));
    expect(short).to.match(/steps  4\/16 early .* after   400 ms/);
    expect(long).to.match(/✗  a-very-long-recording-name-from-a-camera#12345 \(was a\)$/);
    expect(formatDecision(decision({ confident: false, early: false, steps: 16, stoppedBy: 'max-steps' }), classes)).to.contain('uncertain');
  });

  it('an uncertain decision is never marked right or wrong: "?" and its true class beside', () => {
    for (const trueLabel of [0, 1]) {
      const line = formatDecision(decision({ confident: false, early: false, steps: 16, stoppedBy: 'max-steps', label: 0, className: 'a', trueLabel }), classes);
      expect(line).to.not.match(/[✓✗]/);
      expect(line).to.match(/ \?  \S+ \(true class [ab]\)$/);
    }
    expect(formatDecision(decision({ label: 0, className: 'a', trueLabel: 0 }), classes)).to.contain('✓');
  });

  it('steps saved counts only early decisions (θ = 1 saves nothing), the same figure the engine counts', () => {
    const atThetaOne = summarizeDecisions([
      decision({ early: false, confident: false, steps: 15, stoppedBy: 'window-end' }),
      decision({ early: false, confident: false, steps: 16, stoppedBy: 'max-steps' }),
    ]);
    expect(atThetaOne.stepsSavedPct).to.equal(0);
    expect(formatSummary(atThetaOne)).to.match(/steps saved\s+0\.0% \(0 of 31 by early decisions\)/);
    const s = summarizeDecisions([decision({ steps: 4 }), decision({ steps: 6, early: false, confident: true, stoppedBy: 'window-end' })]);
    expect(s.stepsSaved).to.equal(12);
    expect(s.stepsRun).to.equal(10);
    expect(s.stepsSavedPct).to.be.closeTo((100 * 12) / 22, 1e-9);
  });

  it('accuracy is over labelled answers only: uncertain decisions are counted apart, never as right or wrong', () => {
    const s = summarizeDecisions([
      decision({ trueLabel: 1 }),
      decision({ trueLabel: 0 }),
      decision({ confident: false, early: false, steps: 16, stoppedBy: 'max-steps', confidence: 0.093, trueLabel: 0 }),
      decision({ confident: false, early: false, steps: 16, stoppedBy: 'stream-end', confidence: 0.2, trueLabel: 1 }),
      decision({ confident: false, early: false, steps: 3, stoppedBy: 'stream-end' }),
    ]);
    expect(s).to.include({ decisions: 5, answers: 2, labelled: 2, accuracy: 0.5, uncertainDecisions: 3, labelledUncertain: 2, uncertainRight: 1 });
    expect(s.uncertainShare).to.be.closeTo(0.6, 1e-12);
    const text = formatSummary(s);
    expect(text).to.match(/^decisions\s+5: 2 answers \(2 early\), 3 uncertain \(60\.0%, not answers\)$/m);
    expect(text).to.match(/^accuracy\s+50\.00% of 2 labelled answers \(uncertain apart: 1 of 2 labelled would have been right\)$/m);
    expect(formatSummary(summarizeDecisions([decision({ confident: false, early: false, trueLabel: 1 })]))).to.match(/accuracy\s+n\/a \(no labelled answers\)/);
  });

  it('an answer given during no gesture (true label −1, the live scoring rule) is apart from accuracy and wrong in the ECE', () => {
    const s = summarizeDecisions([decision({ trueLabel: 1, confidence: 0.95 }), decision({ trueLabel: -1, confidence: 0.95 })]);
    expect(s).to.include({ labelled: 1, accuracy: 1, outsideAnswers: 1 });
    // Both in bin (0.9, 1]: accuracy 0.5 against confidence 0.95.
    expect(s.ece).to.be.closeTo(0.45, 1e-12);
    expect(formatSummary(s)).to.match(/1 answers during no gesture/);
    expect(formatDecision(decision({ trueLabel: -1 }), ['a', 'b'])).to.match(/✗ .*\(was no gesture\)$/);
  });

  it('a summary of no decisions prints no figures of nothing', () => {
    const text = formatSummary(summarizeDecisions([]), { streams: 1 });
    expect(text).to.not.match(/mean steps|of 0/);
    expect(text).to.match(/^decisions\s+0 /);
    expect(text).to.match(/streams\s+1$/);
  });
});

describe('cli helpers: which --fit a model needs (info)', () => {
  const target = { width: 128, height: 128 };
  it('names every fit that works and what it does', () => {
    expect(formatFitAdvice(fitAdvice(target, target), 'models/gesture')).to.equal('fits models/gesture (128×128) as is');
    expect(formatFitAdvice(fitAdvice({ width: 240, height: 180 }, target), 'm')).to.equal(
      'm takes 128×128: needs --fit scale (scale 1/2 → 120×90, padded to 128×128) or --fit crop (centre crop 128×128)',
    );
    expect(formatFitAdvice(fitAdvice({ width: 34, height: 34 }, target), 'm')).to.equal('m takes 128×128: needs --fit scale|crop|pad (padded to 128×128)');
  });
});

describe('cli helpers: the TF.js backend banner', () => {
  it('is one short line naming the backend (a backend that is not installed is not explained at length)', async function () {
    this.timeout(60_000);
    const { initBackend } = await import('../../src/snn/backend');
    const logs: string[] = [];
    const missing = (): string => {
      throw new Error("Cannot find module '@tensorflow/tfjs-node-gpu'\nRequire stack:\n- /x/backend.js");
    };
    expect(await initBackend(undefined, { log: (m) => logs.push(m), loadNative: missing })).to.equal('wasm');
    expect(logs).to.have.length(1);
    expect(logs[0]).to.match(/^spikestream: TF\.js backend wasm \([^)]*\) \(skipped: tensorflow not installed\)$/);
  });
});
