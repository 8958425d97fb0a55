#!/usr/bin/env node
import * as fs from 'fs';
import * as path from 'path';
import { Command } from 'commander';
import { reportError } from './errors';
import { packageRoot } from './model-options';
import * as info from './info';
import * as convert from './convert';
import * as dataset from './dataset';
import * as train from './train';
import * as importOnnx from './import';
import * as frames from './frames';
import * as calibrate from './calibrate';
import * as evaluate from './evaluate';
import * as replay from './replay';
import * as serve from './serve';
import * as sensor from './sensor';
import * as start from './start';
import * as worker from './worker';

/** The package's version, from its package.json. */
export function packageVersion(): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** Commander's own errors (unknown option, missing argument) as one line naming the command's help. */
function oneLineErrors(cmd: Command, names: readonly string[] = []): void {
  const full = ['spikestream', ...names].join(' ');
  cmd.configureOutput({
    outputError: (str, write) => write(`spikestream: ${str.trim().replace(/^error: /, '')} (see ${full} --help)\n`),
  });
  for (const sub of cmd.commands) oneLineErrors(sub, [...names, sub.name()]);
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('spikestream')
    .description('Event-camera (DVS) classification with spiking neural networks that answer early (Dynamic Confidence).')
    .version(packageVersion(), '-V, --version', 'print the version')
    .exitOverride();
  info.register(program);
  convert.register(program);
  dataset.register(program);
  frames.register(program);
  train.register(program);
  importOnnx.register(program);
  calibrate.register(program);
  evaluate.register(program);
  replay.register(program);
  serve.register(program);
  sensor.register(program);
  start.register(program);
  worker.register(program);
  oneLineErrors(program);
  return program;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 bad input or failure, 2 usage; see errors.ts). */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    return reportError(err);
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
