import { expect } from 'chai';
import { spawn, type ChildProcess } from 'child_process';
import * as path from 'path';
import { BUNDLED_RECORDING } from '../../examples/bundled';
import { runSpikestream } from '../helpers/cli';
import { waitFor } from '../helpers/time';

/** The compiled examples, beside the compiled tests (dist/examples or <outDir>/examples). */
const EXAMPLES = path.join(__dirname, '..', '..', 'examples');

interface Proc {
  child: ChildProcess;
  stdout: string[];
  stderr: string;
  exited: Promise<number | null>;
  /** Resolves with the first stdout line matching `re` (rejects after `timeoutMs` or at exit). */
  line(re: RegExp, timeoutMs?: number): Promise<string>;
}

function run(example: string, args: readonly string[]): Proc {
  const child = spawn(process.execPath, [path.join(EXAMPLES, `${example}.js`), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stdout: string[] = [];
  let partial = '';
  const waiting: { re: RegExp; resolve(l: string): void }[] = [];
  const p: Proc = {
    child,
    stdout,
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
    line(re, timeoutMs = 20_000) {
      const seen = stdout.find((l) => re.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${example}: no line matching ${re} within ${timeoutMs} ms; stderr: ${p.stderr}`)), timeoutMs);
        waiting.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        void p.exited.then(() => {
          clearTimeout(timer);
          reject(new Error(`${example} exited before printing ${re}; stderr: ${p.stderr}`));
        });
      });
    },
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const l of parts) {
      stdout.push(l);
      for (const w of waiting.splice(0)) {
        if (w.re.test(l)) w.resolve(l);
        else waiting.push(w);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (p.stderr += chunk));
  return p;
}

async function exitCode(p: Proc, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`did not exit within ${timeoutMs} ms; stderr: ${p.stderr}`)), timeoutMs)));
  try {
    return await Promise.race([p.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('examples', function () {
  this.timeout(60_000);
  const started: Proc[] = [];
  const start = (example: string, args: readonly string[]): Proc => {
    const p = run(example, args);
    started.push(p);
    return p;
  };
  afterEach(() => {
    for (const p of started.splice(0)) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  });

  it('replay-file classifies the bundled recording with its labels: answers and uncertain decisions counted as the CLI counts them', async () => {
    const p = start('replay-file', []);
    expect(await exitCode(p, 30_000), p.stderr).to.equal(0);
    const decisions = p.stdout.filter((l) => /^gesture#\d+ /.test(l));
    expect(decisions).to.have.length(11);
    // An uncertain decision is never ticked or crossed.
    for (const l of decisions.filter((x) => / uncertain$/.test(x))) expect(l).to.not.match(/[✓✗]/);
    const summary = p.stdout.find((l) => l.startsWith('summary: '));
    expect(summary, p.stdout.join('\n')).to.match(
      /^summary: 11 decisions: \d+ answers \(\d+ early\), \d+ uncertain; accuracy [\d.]+% \(\d+\/\d+ labelled answers\), mean steps [\d.]+\/16, steps saved \d+\/\d+/,
    );

    const j = start('replay-file', ['--json']);
    expect(await exitCode(j, 30_000), j.stderr).to.equal(0);
    const lines = j.stdout.filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
    const s = lines[lines.length - 1];
    expect(s.type).to.equal('summary');
    expect(s.decisions).to.equal(11);
    expect(s.stepsSaved).to.be.greaterThan(0);
    expect(lines.filter((l) => l.type === 'decision')).to.have.length(11);

    // The same recording through the CLI: the same answers, uncertain decisions and accuracy.
    const cli = runSpikestream(['replay', BUNDLED_RECORDING, '--json', '--threads', '1']);
    expect(cli.code, cli.stderr).to.equal(0);
    const cliSummary = cli.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.type === 'summary')!;
    expect({ answers: s.answers, uncertain: s.uncertain, accuracy: s.accuracy }).to.deep.equal({
      answers: cliSummary.answers,
      uncertain: cliSummary.uncertainDecisions,
      accuracy: cliSummary.accuracy,
    });
    expect(s.accuracy).to.be.at.least(0.8);
  });

  it('run-server + sensor + subscribe: decisions flow end to end, SIGINT stops the server', async () => {
    const server = start('run-server', ['--port', '0']);
    const url = (await server.line(/^listening http:\/\/127\.0\.0\.1:\d+$/)).split(' ')[1];

    // Two subscribers: all streams (JSON) and one stream's decisions only.
    const all = start('subscribe', [url, '--json', '--exit-after', '5']);
    const onlyB = start('subscribe', [url, '--stream', 'camB', '--exit-after', '3']);
    for (const s of [all, onlyB]) {
      await waitFor(() => /subscribed to/.test(s.stderr), 10_000, 'the subscriber to say it subscribed');
      expect(s.stderr).to.match(/subscribed to ws:\/\/127\.0\.0\.1:\d+\/decisions/);
    }

    // A camera at 40× real time (28 s of events in ~0.7 s), another one as fast as possible.
    const camA = start('sensor', [url, '--id', 'camA', '--speed', '40']);
    const camB = start('sensor', [`${url.replace('http', 'ws')}/ingest/camB`, '--asap']);
    expect(await exitCode(camA, 30_000), camA.stderr).to.equal(0);
    expect(await exitCode(camB, 30_000), camB.stderr).to.equal(0);
    for (const cam of [camA, camB]) expect(cam.stdout.join('\n')).to.match(/^sent 378593 events in \d+ messages \(\d+ bytes\) in [\d.]+ s; closed 1000 done$/m);

    expect(await exitCode(all, 20_000), all.stderr).to.equal(0);
    const msgs = all.stdout.filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(msgs).to.have.length(5);
    for (const m of msgs) {
      expect(m.type).to.equal('decision');
      expect(m.streamId).to.be.oneOf(['camA', 'camB']);
      expect(m.className).to.be.a('string');
      expect(m.label).to.be.within(0, 10);
      expect(m.confidence).to.be.within(0, 1);
      expect(m.steps).to.be.within(1, 16);
      expect(m.maxSteps).to.equal(16);
      expect(m.eventTimeUs).to.be.a('number');
    }
    expect(await exitCode(onlyB, 20_000), onlyB.stderr).to.equal(0);
    const bLines = onlyB.stdout.filter((l) => l.length > 0);
    expect(bLines).to.have.length(3);
    for (const l of bLines) expect(l).to.match(/^camB\s+camB#\d+\s+.+ conf [01]\.\d{3} {2}step \d+\/16/);

    // The server printed decisions of both cameras; SIGINT stops it cleanly with totals.
    const decided = server.stdout.filter((l) => /^cam[AB] /.test(l));
    expect(decided.some((l) => l.startsWith('camA'))).to.equal(true);
    expect(decided.some((l) => l.startsWith('camB'))).to.equal(true);
    server.child.kill('SIGINT');
    expect(await exitCode(server, 15_000), server.stderr).to.equal(0);
    const stopped = server.stdout.find((l) => l.startsWith('stopped: '));
    expect(stopped).to.match(/^stopped: \d+ decisions \(\d+ early\), \d+ steps run, \d+ saved$/);
    // Decisions still pending at SIGINT are delivered (and printed) before the totals.
    const printed = server.stdout.filter((l) => /^cam[AB] /.test(l)).length;
    expect(printed).to.be.at.least(decided.length);
    expect(Number(/^stopped: (\d+)/.exec(stopped!)![1])).to.equal(printed);
  });

  it('run-server --exit-after and a refused subscriber (wrong token)', async () => {
    const server = start('run-server', ['--port', '0', '--token', 's3cret', '--exit-after', '2']);
    const url = (await server.line(/^listening /)).split(' ')[1];
    const refused = start('subscribe', [url, '--token', 'wrong']);
    expect(await exitCode(refused, 10_000)).to.equal(2);
    expect(refused.stderr).to.match(/refused: HTTP 401/);
    const cam = start('sensor', [url, '--asap', '--token', 's3cret']);
    // The server stops by itself after 2 decisions, closing the sensor (1001) or after it is done.
    expect(await exitCode(server, 30_000), server.stderr).to.equal(0);
    expect(server.stdout.some((l) => /^stopped: /.test(l))).to.equal(true);
    expect(await exitCode(cam, 30_000)).to.be.oneOf([0, 1]);
  });
});
