/**
 * Opens one parsed `--input` (input-url.ts) as a live input of streams/sources: the service
 * (inputs.ts) and `spikestream sensor --from` use it alike.
 */
import { DvNetworkInput } from '../../streams/sources/from-dv-network';
import { openEventPath, ReadableInput } from '../../streams/sources/from-readable';
import { UdpInput } from '../../streams/sources/from-udp';
import type { LiveInput, LiveInputOptions } from '../../streams/sources/live-input';
import type { InputSpec } from './input-url';

/** An open input: its live input, and a promise that rejects when it cannot start (a UDP port in use). */
export interface OpenedInput {
  readonly spec: InputSpec;
  readonly input: LiveInput;
  readonly started: Promise<void>;
}

export function openInput(spec: InputSpec, o: LiveInputOptions): OpenedInput {
  if (spec.kind === 'udp') {
    const udp = new UdpInput({ ...o, host: spec.host, port: spec.port, format: spec.format, width: spec.width, height: spec.height });
    return { spec, input: udp.input, started: udp.listening.then(() => undefined) };
  }
  if (spec.kind === 'dv') return { spec, input: new DvNetworkInput(spec.endpoint, o).input, started: Promise.resolve() };
  // A FIFO opens only once its writer does: never waited for; a path that cannot be read ends the input with one line.
  const stream = spec.path === '-' ? process.stdin : openEventPath(spec.path);
  return { spec, input: new ReadableInput(stream, { ...o, name: spec.path === '-' ? 'stdin' : spec.path }).input, started: Promise.resolve() };
}
