/**
 * The real programs that send live events (../shared/peers): AEStream's command-line tool, built
 * here from its unmodified source by the peers' build script, and faery's own UDP encoder. Tests
 * start them by PID and stop them by PID; a partner that is missing or cannot be built FAILS the
 * test that needs it, with the one command that fixes it (never a skip).
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import * as dgram from 'dgram';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { EventBatch } from '../../src/events/event-batch';
import { sharedDir } from './paths';

const PEERS = path.join(sharedDir, 'peers');

/** Builds (or finds, when up to date) the real `aestream` binary; returns its path. */
export function aestreamBinary(): string {
  const script = path.join(PEERS, 'build-aestream.sh');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: the AEStream test partner lives in ../shared/peers`);
  const out = path.join(os.tmpdir(), 'spikestream-aestream-peer');
  const r = spawnSync('bash', [script, out], { encoding: 'utf8', timeout: 300_000 });
  const bin = r.stdout.trim().split('\n').at(-1) ?? '';
  if (r.status !== 0 || !fs.existsSync(bin)) {
    throw new Error(`building aestream failed (bash ${script} ${out}, exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}; as root it installs g++ flatbuffers-compiler libflatbuffers-dev liblz4-dev`);
  }
  return bin;
}

/** faery's sender script, after checking that python3 can import numpy. */
export function faerySender(): string {
  const script = path.join(PEERS, 'faery-udp-send.py');
  if (!fs.existsSync(script)) throw new Error(`${script} is missing: the faery test partner lives in ../shared/peers`);
  const r = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`faery's encoder needs python3 with numpy: apt-get install -y python3-numpy (${(r.stderr || String(r.error)).trim().split('\n').at(-1)})`);
  return script;
}

/** A partner process, started by us and stopped by its PID. */
export class Partner {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; output: string }>;
  private output = '';

  constructor(command: string, args: readonly string[]) {
    this.child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('exit', (code) => resolve({ code, output: this.output.trim() }));
    });
  }

  /** Waits for a clean exit (code 0) within `ms`, else stops it and fails with its output. */
  async done(ms: number): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.stop();
        reject(new Error(`partner pid ${this.child.pid} did not finish in ${ms} ms: ${this.output.trim()}`));
      }, ms);
    });
    try {
      const r = await Promise.race([this.exited, timeout]);
      if (r.code !== 0) throw new Error(`partner pid ${this.child.pid} exited with ${r.code}: ${r.output}`);
      return r.output;
    } finally {
      clearTimeout(timer);
    }
  }

  stop(): void {
    if (this.child.exitCode === null && this.child.pid !== undefined) process.kill(this.child.pid, 'SIGTERM');
  }
}

/** A UDP port free on 127.0.0.1 right now (bound, read, released). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(r));
  return port;
}

/** Writes `t,x,y,p` lines; `header` adds the column line (faery skips one; aestream takes none). */
export function writeEventsCsv(file: string, b: EventBatch, o: { header: boolean; repeatFirst?: boolean }): void {
  const lines: string[] = o.header ? ['t,x,y,p'] : [];
  const line = (i: number): string => `${b.t[i]},${b.x[i]},${b.y[i]},${b.p[i]}`;
  if (o.repeatFirst && b.length > 0) lines.push(line(0));
  for (let i = 0; i < b.length; i++) lines.push(line(i));
  fs.writeFileSync(file, lines.join('\n') + '\n');
}
