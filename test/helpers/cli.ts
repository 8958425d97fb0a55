import { spawnSync } from 'child_process';
import * as path from 'path';
import { repoRoot } from './paths';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled `spikestream` CLI in a child process, as a user would. */
export function runSpikestream(args: readonly string[], opts: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): CliRun {
  const main = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
  const r = spawnSync(process.execPath, [main, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 120_000,
    env: { ...process.env, ...opts.env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `runSpikestream` without blocking the event loop (for a CLI that talks to a server in this process). */
export function runSpikestreamAsync(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CliRun> {
  const { spawn } = require('child_process') as typeof import('child_process');
  const main = path.join(__dirname, '..', '..', 'src', 'cli', 'main.js');
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [main, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
