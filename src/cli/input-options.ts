import type { Command } from 'commander';
import { InputUrlError, parseInputUrls, type InputSpec } from '../server/input-url';
import { UsageError } from './errors';

export interface InputCliOptions {
  input: string[];
}

export const INPUT_HELP =
  'a live input, repeatable: udp://HOST:PORT?format=spif|spif-ts|t64_x16_y16_on8|t32_x16_y15_on1&width=W&height=H, ' +
  'dv+tcp://HOST:PORT, dv+unix:///path, or - / a file or FIFO path (raw EVT 2.0/3.0 or AEDAT); ?fit=&roi= per stream, #ID names it';

/** `--input URL` (repeatable). */
export function addInputOption(cmd: Command, help = INPUT_HELP): Command {
  return cmd.option('--input <url>', help, (v: string, prev: string[]) => [...prev, v], [] as string[]);
}

/** The parsed `--input`s; a bad one is a usage error (one line, exit 2). */
export function inputSpecsFromCli(o: InputCliOptions): InputSpec[] {
  try {
    return parseInputUrls(o.input ?? []);
  } catch (err) {
    if (err instanceof InputUrlError) throw new UsageError(`--input ${err.message}`);
    throw err;
  }
}
