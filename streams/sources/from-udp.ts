/**
 * A UDP port as a live input: what AEStream (`output udp`, SPIF) and faery (`t64_x16_y16_on8`,
 * `t32_x16_y15_on1`) send. Binds where told (default 127.0.0.1: nothing listens beyond what the
 * user asked), asks the kernel for a large receive buffer (a burst waits there, not on the
 * floor), decodes each datagram (udp-formats.ts) and pushes its events into the input's bounded
 * queue.
 *
 * UDP has no sensor size, so `width` and `height` are required; it has no sequence numbers, so a
 * datagram lost before it reached us cannot be seen or counted: only what arrives is. A datagram
 * of the wrong size or format is refused whole (counted, said once); events outside the sensor and
 * datagrams that go back in time are dropped and counted. UDP never ends: the input runs until
 * it is closed.
 */
import * as dgram from 'dgram';
import type { Observable } from 'rxjs';
import type { EventBatch } from '../../src/events/event-batch';
import { arrivalMicros, LiveInput, liveObservable, type LiveInputOptions } from './live-input';
import { isUdpFormat, UDP_FORMATS, UdpDatagramDecoder, type UdpFormat } from './udp-formats';

/** 8 MiB: about 16,000 SPIF datagrams, 0.5 s of a busy camera, waiting in the kernel. */
export const DEFAULT_UDP_RECEIVE_BUFFER_BYTES = 8 * 1024 * 1024;

export interface UdpInputOptions extends LiveInputOptions {
  readonly port: number;
  /** Address to bind (default 127.0.0.1). */
  readonly host?: string;
  readonly format: UdpFormat;
  /** The sensor size: UDP does not carry it. */
  readonly width: number;
  readonly height: number;
  /** SO_RCVBUF asked for (the kernel may cap it: `net.core.rmem_max`). */
  readonly receiveBufferBytes?: number;
  /** The arrival clock for SPIF words without time (µs; default wall-clock µs that never go back). */
  readonly now?: () => number;
}

/** A bad UDP input option: what and which, in one line. */
export class UdpOptionError extends Error {
  override readonly name = 'UdpOptionError';
}

function checkOptions(o: UdpInputOptions): void {
  if (!isUdpFormat(o.format)) throw new UdpOptionError(`unknown UDP format '${String(o.format)}' (one of ${UDP_FORMATS.join(', ')})`);
  for (const [k, v] of [['width', o.width], ['height', o.height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > 32768) throw new UdpOptionError(`UDP ${k} must be an integer in 1..32768 (UDP carries no sensor size), got ${String(v)}`);
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new UdpOptionError(`UDP port must be an integer in 0..65535, got ${String(o.port)}`);
}

/** An open UDP input: the live input, and the bound address once listening. */
export class UdpInput {
  readonly input: LiveInput;
  /** Resolves with the bound port (useful with port 0) once listening; rejects if binding fails. */
  readonly listening: Promise<{ address: string; port: number }>;
  /** The receive buffer the kernel granted (bytes; Linux reports twice what it reserves for data). */
  receiveBufferBytes = 0;

  constructor(o: UdpInputOptions) {
    checkOptions(o);
    const host = o.host ?? '127.0.0.1';
    const name = (port: number): string => `udp://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const socket = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: o.receiveBufferBytes ?? DEFAULT_UDP_RECEIVE_BUFFER_BYTES });
    this.input = new LiveInput(name(o.port), o, () => {
      try {
        socket.close();
      } catch {
        // never bound (the bind failed): nothing to close
      }
    });
    const input = this.input;
    const geometry = { width: o.width, height: o.height };
    input.setGeometry(geometry);
    const decoder = new UdpDatagramDecoder(o.format, geometry, o.now ?? arrivalMicros);
    socket.on('message', (d) => {
      input.received(d.length);
      const r = decoder.decode(d);
      if (r.refused !== undefined) {
        input.badMessage();
        input.notice(`datagram refused (counted; further ones only counted): ${r.refused}`, 'refused');
        return;
      }
      if (r.outOfBounds > 0) {
        input.countDrop('out_of_bounds', r.outOfBounds);
        input.notice(`events outside the ${o.width}×${o.height} sensor dropped (counted; said once): check width/height`, 'bounds');
      }
      if (r.timeBackwards > 0) input.countDrop('time_backwards', r.timeBackwards);
      input.push(r.batch, d.length);
    });
    this.listening = new Promise((resolve, reject) => {
      socket.once('error', (err) => {
        input.fail(err);
        reject(err);
      });
      socket.bind(o.port, host, () => {
        this.receiveBufferBytes = socket.getRecvBufferSize();
        const bound = socket.address();
        input.rename(name(bound.port));
        resolve(bound);
      });
    });
    // The bind error also fails the input's consumer; a caller that never awaits `listening` must not crash the process.
    this.listening.catch(() => undefined);
  }

  close(): void {
    this.input.close();
  }
}

/**
 * A UDP port's events (AEStream SPIF, faery) as an Observable: subscribing binds the port,
 * unsubscribing closes it. `new UdpInput(o)` gives the pulled source, counters and bound port.
 */
export function fromUdp(o: UdpInputOptions): Observable<EventBatch> {
  checkOptions(o);
  return liveObservable(() => new UdpInput(o).input);
}
