/**
 * What the command line tells a user when something goes wrong: one sentence on stderr, never a
 * stack trace (unless SPIKESTREAM_DEBUG=1), and an exit code that says whose fault it was.
 *
 *   0  done
 *   1  bad input or a failure while running (a corrupt file, a port in use, a model that does not fit)
 *   2  usage: the command line itself is wrong (bad option value, missing file, a folder for a file)
 */
import { CommanderError } from 'commander';
import * as path from 'path';
import { FormatError } from 'aedat-parser-ts';
import { FitError } from '../../streams/operators/fit';

/** An error whose message is written for the user; `exitCode` is 1 (input/runtime) or 2 (usage). */
export abstract class CliError extends Error {
  abstract readonly exitCode: 1 | 2;
}

/** A user's mistake on the command line (an option value, a path that does not exist): exit 2. */
export class UsageError extends CliError {
  override readonly name = 'UsageError';
  readonly exitCode = 2;
}

/** Input the command cannot use (an empty file, a folder that is no dataset, nothing to classify): exit 1. */
export class InputError extends CliError {
  override readonly name = 'InputError';
  readonly exitCode = 1;
}

export interface ErrorReport {
  /** One line, without the `spikestream: ` prefix. */
  readonly message: string;
  readonly exitCode: number;
}

/** Node's system errors (fs, net) as sentences; undefined for any other error. */
function systemErrorReport(e: NodeJS.ErrnoException & { port?: number }): ErrorReport | undefined {
  const where = e.path !== undefined ? path.resolve(e.path) : (e as { address?: string }).address;
  switch (e.code) {
    case 'ENOENT':
      return { message: `${where ?? 'a file'} does not exist`, exitCode: 2 };
    case 'EISDIR':
      return { message: `${where ?? 'the path'} is a folder, not a file`, exitCode: 2 };
    case 'ENOTDIR':
      return { message: `${where ?? 'the path'} is not a folder`, exitCode: 2 };
    case 'EACCES':
    case 'EPERM':
      return { message: `permission denied: ${where ?? e.message}`, exitCode: 1 };
    case 'EADDRINUSE':
      return { message: `port ${e.port ?? '?'} is already in use: choose another with --port (0 = any free port)`, exitCode: 1 };
    case 'EADDRNOTAVAIL':
      return { message: `cannot listen on ${where ?? 'that address'}: no such local address (--host)`, exitCode: 1 };
    case 'ERR_SOCKET_BAD_PORT':
      return { message: '--port must be an integer 0–65535', exitCode: 2 };
    case 'ENOSPC':
      return { message: `no space left on the device${where ? ` writing ${where}` : ''}`, exitCode: 1 };
    default:
      return undefined;
  }
}

/** The one line and exit code for anything a command throws. */
export function reportFor(err: unknown): ErrorReport {
  if (err instanceof CommanderError) return { message: '', exitCode: err.exitCode === 0 ? 0 : 2 };
  if (err instanceof CliError) return { message: err.message, exitCode: err.exitCode };
  // The full path, however the file was named: a relative one is ambiguous once the line is read elsewhere.
  if (err instanceof FormatError) return { message: `bad input: ${withFullPath(err).message}`, exitCode: 1 };
  // A sensor that does not fit the model: the fix is an option (--fit, --roi).
  if (err instanceof FitError) return { message: err.message, exitCode: 2 };
  if (err instanceof Error) {
    const sys = systemErrorReport(err as NodeJS.ErrnoException);
    if (sys) return sys;
    return { message: firstLine(err.message) || err.name, exitCode: 1 };
  }
  return { message: firstLine(String(err)), exitCode: 1 };
}

function withFullPath(err: FormatError): FormatError {
  return err.file === undefined || path.isAbsolute(err.file) ? err : new FormatError(err.format, err.offset, err.reason, path.resolve(err.file), err.unit);
}

function firstLine(s: string): string {
  return s.split('\n')[0].trim();
}

/**
 * Writes the report of `err` to stderr (one line; the stack too with SPIKESTREAM_DEBUG=1) and
 * returns the exit code. Commander has already printed its own usage errors.
 */
export function reportError(err: unknown, debug = process.env.SPIKESTREAM_DEBUG === '1'): number {
  const r = reportFor(err);
  if (r.message !== '') process.stderr.write(`spikestream: ${r.message}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  return r.exitCode;
}
