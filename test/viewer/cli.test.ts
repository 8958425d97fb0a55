/**
 * `serve` and `start` serve the viewer and print its URL first; `--preview-fps` and `--no-viewer`.
 * The built CLI runs in a child process, as a user would start it.
 */
import { expect } from 'chai';
import { spawn, type ChildProcessByStdio } from 'child_process';
import * as path from 'path';
import type { Readable } from 'stream';
import { runSpikestream } from '../helpers/cli';
import { repoRoot } from '../helpers/paths';

const MAIN = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');

/** A running CLI: its first `lines` lines of `stream`, then it is stopped with SIGINT; resolves with its exit code. */
function firstLines(args: readonly string[], stream: 'stdout' | 'stderr', lines: number): { lines: Promise<string[]>; stop: () => Promise<number> } {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [MAIN, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let text = '';
  const got = new Promise<string[]>((resolve, reject) => {
    child[stream].on('data', (d: Buffer) => {
      text += d.toString('utf8');
      const all = text.split('\n');
      if (all.length > lines) resolve(all.slice(0, lines));
    });
    void exited.then(() => reject(new Error(`exited before printing ${lines} line(s): ${text}`)));
  });
  return {
    lines: got,
    stop: async () => {
      child.kill('SIGINT');
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}

describe('viewer: serve and start print the page’s URL first', function () {
  this.timeout(90_000);

  it('serve: the first line is the viewer’s URL, and the page is there', async () => {
    const run = firstLines(['serve', '--port', '0', '--quiet', '--preview-fps', '5'], 'stderr', 2);
    try {
      const [first] = await run.lines;
      const m = /^viewer: (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(first);
      expect(m, first).to.not.equal(null);
      const page = await fetch(m![1]);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.contain('<title>spikestream');
      const config = (await (await fetch(`${m![1]}viewer/config.json`)).json()) as { previewFps: number };
      expect(config.previewFps).to.equal(5);
    } finally {
      expect(await run.stop()).to.equal(0);
    }
  });

  it('serve --no-viewer --json: no viewer in the listening line, and / is 404', async () => {
    const run = firstLines(['serve', '--port', '0', '--quiet', '--json', '--no-viewer'], 'stdout', 1);
    try {
      const listening = JSON.parse((await run.lines)[0]) as { type: string; url: string; viewer?: string };
      expect(listening.type).to.equal('listening');
      expect(listening.viewer).to.equal(undefined);
      expect((await fetch(`${listening.url}/`)).status).to.equal(404);
    } finally {
      expect(await run.stop()).to.equal(0);
    }
  });

  it('start --json: the first line gives the viewer’s URL; the service labels decisions from the recording’s label windows', () => {
    const r = runSpikestream(['start', '--once', '--asap', '--json']);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; viewer?: string; url?: string; trueLabel?: number });
    expect(lines[0].type).to.equal('listening');
    expect(lines[0].viewer).to.equal(`${lines[0].url}/`);
    const decisions = lines.filter((l) => l.type === 'decision');
    expect(decisions.length).to.be.greaterThan(5);
    expect(decisions.filter((d) => d.trueLabel !== undefined).length).to.be.greaterThan(decisions.length / 2);
  });

  it('refuses a --preview-fps that is not a number 0.1…1000', () => {
    for (const bad of ['0', '-3', 'fast', '5000']) {
      const r = runSpikestream(['serve', '--preview-fps', bad]);
      expect([bad, r.code]).to.deep.equal([bad, 2]);
      expect(r.stderr.trim()).to.contain(`--preview-fps must be a number 0.1–1000, got '${bad}'`);
    }
  });
});
