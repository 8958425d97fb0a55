/**
 * The command line's live inputs as a user runs them: `serve --input`, `start --input` (decisions
 * until Ctrl-C, then the summary) and `sensor --from` (relay a live input to a service), with the
 * real faery encoder and our DV writer as partners, and what a wrong `--input` says.
 */
import { expect } from 'chai';
import { spawn } from 'child_process';
import * as dgram from 'dgram';
import * as path from 'path';
import { concatBatches, lowerBoundTime, sliceByIndex, type EventBatch } from '../../src/events/event-batch';
import { readEventFile } from 'aedat-parser-ts/node';
import { startService } from '../../src/server/service';
import { loadClassifierModel } from '../../src/snn/model/classifier-model';
import type { Decision } from '../../streams/types';
import { runSpikestreamAsync, type CliRun } from '../helpers/cli';
import { DvNetworkWriter } from '../helpers/dv-network-writer';
import { faerySender, freeUdpPort, Partner, writeEventsCsv } from '../helpers/live-partners';
import { makeTempDir, repoRoot } from '../helpers/paths';
import { waitFor } from '../helpers/time';

const MAIN = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
const RECORDING = path.join(repoRoot, 'recordings', 'gestures', 'user30_natural.aedat');

async function clip(us: number): Promise<EventBatch> {
  const out: EventBatch[] = [];
  for await (const b of readEventFile(RECORDING)) out.push(b);
  const all = concatBatches(out);
  return sliceByIndex(all, 0, lowerBoundTime(all, us));
}

/** The CLI in a child process; `interrupt()` is Ctrl-C, sent to its PID (also after `timeoutMs`, so nothing hangs). */
class RunningCli {
  private readonly child;
  stdout = '';
  stderr = '';
  readonly done: Promise<CliRun>;

  constructor(args: readonly string[], timeoutMs: number, onStdout: (cli: RunningCli) => void = () => undefined) {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const timer = setTimeout(() => this.interrupt(), timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      onStdout(this);
    });
    child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.done = new Promise((resolve) =>
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code: code ?? -1, stdout: this.stdout, stderr: this.stderr });
      }),
    );
  }

  interrupt(): void {
    if (this.child.exitCode === null && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGINT');
  }
}

describe('cli: serve/start --input and sensor --from', function () {
  this.timeout(120_000);
  const dir = makeTempDir('spikestream-cli-inputs-');

  it('a wrong --input or --from is one line and exit 2; a UDP port in use is one line and exit 1', async () => {
    const busy = dgram.createSocket('udp4');
    await new Promise<void>((r) => busy.bind(0, '127.0.0.1', r));
    const busyPort = busy.address().port;
    const cases: [string[], number, RegExp][] = [
      [['serve', '--port', '0', '--input', 'udp://127.0.0.1:3333?width=128&height=128'], 2, /--input udp:\/\/127\.0\.0\.1:3333\?width=128&height=128: format=\(missing\) is not a UDP format: one of spif, spif-ts/],
      [['start', '--input', 'dv+tcp://127.0.0.1'], 2, /--input dv\+tcp:\/\/127\.0\.0\.1: a DV TCP URL needs a host and a port/],
      [['start', '--once', '--input', 'dv+tcp://127.0.0.1:7777'], 2, /--input runs until Ctrl-C on live inputs: --once, --speed/],
      [['serve', '--port', '0', '--input', 'a.raw', '--input', 'b/a.raw'], 2, /two inputs are named 'a': name them apart with #ID/],
      [['sensor', '--url', 'ws://127.0.0.1:1/ingest/x'], 2, /give a file to replay or --from URL to relay a live input/],
      [['sensor', RECORDING, '--from', '-', '--url', 'ws://127.0.0.1:1/ingest/x'], 2, /not both/],
      [['sensor', '--from', 'udp://127.0.0.1:9?format=spif', '--url', 'ws://127.0.0.1:1/ingest/x'], 2, /--from .*UDP carries no sensor size: give width/],
      [['serve', '--port', '0', '--input', `udp://127.0.0.1:${busyPort}?format=spif&width=128&height=128`], 1, new RegExp(`input udp-${busyPort} \\(.*\\) cannot start: bind EADDRINUSE 127\\.0\\.0\\.1:${busyPort}`)],
    ];
    try {
      const runs = await Promise.all(cases.map(([args]) => runSpikestreamAsync(args, { timeoutMs: 60_000 })));
      runs.forEach((r, i) => {
        const [args, code, says] = cases[i];
        const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
        expect(r.code, args.join(' ')).to.equal(code);
        expect(lines, args.join(' ')).to.have.length(1);
        expect(lines[0], args.join(' ')).to.match(says);
      });
    } finally {
      busy.close();
    }
  });

  it('start --input udp://…#cam --json: decisions of that stream as NDJSON until Ctrl-C, then the summary', async () => {
    const events = await clip(5_000_000);
    const csv = path.join(dir, 'faery.csv');
    writeEventsCsv(csv, events, { header: true });
    const port = await freeUdpPort();
    const faery = faerySender();
    let partner: Partner | undefined;
    let sawDecision = false;
    const cli = new RunningCli(['start', '--json', '--input', `udp://127.0.0.1:${port}?format=t64_x16_y16_on8&width=128&height=128#cam`], 90_000, (c) => {
      if (!partner && c.stdout.includes('"listening"')) partner = new Partner('python3', [faery, csv, String(port), '--speed', '2']);
      if (!sawDecision && /"type":"decision".*"confident":true/.test(c.stdout)) {
        sawDecision = true;
        c.interrupt();
      }
    });
    const r = await cli.done;
    await partner?.done(30_000);
    expect(sawDecision, r.stderr).to.equal(true);
    expect(r.code).to.equal(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; streamId?: string; inputs?: unknown });
    expect(lines[0]).to.deep.include({ type: 'listening', inputs: [{ id: 'cam', input: `udp://127.0.0.1:${port}?format=t64_x16_y16_on8&width=128&height=128#cam` }] });
    expect(lines.filter((l) => l.type === 'decision').every((l) => l.streamId === 'cam')).to.equal(true);
    expect(lines.at(-1)).to.deep.include({ type: 'summary', streams: 1, interrupted: true });
  });

  it('sensor --from dv+tcp://… relays a DV network stream to a service over WebSocket, event for event', async () => {
    const events = await clip(2_000_000);
    const model = loadClassifierModel(path.join(repoRoot, 'models', 'gesture'));
    const service = await startService({ model, port: 0 });
    const writer = new DvNetworkWriter({ width: 128, height: 128, compression: 'LZ4', listen: { port: 0 } });
    const decisions: Decision[] = [];
    service.decisions.subscribe((d) => decisions.push(d));
    try {
      const url = await writer.listen();
      const relay = new RunningCli(['sensor', '--json', '--from', url, '--url', `${service.address.url.replace(/^http/, 'ws')}/ingest/davis`], 60_000);
      await waitFor(() => writer.clientCount === 1, 30_000, 'the relay to connect');
      writer.send(events, 2048);
      await waitFor(() => service.server.streams().some((s) => s.streamId === 'davis' && s.enqueuedEvents === events.length), 30_000, 'every event at the service');
      await writer.close(); // the DV server goes away: the relay says so and waits to reconnect, until Ctrl-C
      await waitFor(() => relay.stderr.includes('reconnecting in'), 30_000, 'the relay to say so');
      relay.interrupt();
      const child = await relay.done;
      await waitFor(() => decisions.length > 0, 30_000, 'a decision');
      const out = JSON.parse(child.stdout.trim()) as { events: number; input: { events: number } };
      expect(out.events).to.equal(events.length);
      expect(out.input.events).to.equal(events.length);
      expect(child.stderr).to.match(/the DV server closed the connection; reconnecting in/);
      expect(decisions.every((d) => d.streamId === 'davis')).to.equal(true);
    } finally {
      await writer.close().catch(() => undefined);
      await service.stop(2000);
    }
  });
});

