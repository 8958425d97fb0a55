#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { FormatError } from '../formats/format-error';
import { UsageError } from './output';
import { ModelInputError } from '../../streams/operators/classify';
import * as info from './info';
import * as convert from './convert';
import * as dataset from './dataset';
import * as train from './train';
import * as frames from './frames';
import * as calibrate from './calibrate';
import * as evaluate from './evaluate';
import * as replay from './replay';
import * as serve from './serve';
import * as sensor from './sensor';
import * as start from './start';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('spikestream')
    .description('Event-camera (DVS) classification with spiking neural networks that answer early (Dynamic Confidence).')
    .showHelpAfterError()
    .exitOverride();
  info.register(program);
  convert.register(program);
  dataset.register(program);
  frames.register(program);
  train.register(program);
  calibrate.register(program);
  evaluate.register(program);
  replay.register(program);
  serve.register(program);
  sensor.register(program);
  start.register(program);
  return program;
}

/** Runs the CLI; returns the process exit code (0 ok, 1 bad input or failure, 2 usage). */
export async function runCli(argv: readonly string[]): Promise<number> {
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof UsageError) {
      process.stderr.write(`spikestream: ${err.message}\n`);
      return 2;
    }
    if (err instanceof ModelInputError) {
      process.stderr.write(`spikestream: ${err.message}\n`);
      return 1;
    }
    if (err instanceof FormatError) {
      process.stderr.write(`spikestream: bad input: ${err.message}\n`);
      return 1;
    }
    const e = err as NodeJS.ErrnoException;
    if (e && typeof e.code === 'string' && typeof e.path === 'string') {
      process.stderr.write(`spikestream: ${e.code}: ${e.path}\n`);
      return 1;
    }
    process.stderr.write(`spikestream: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
