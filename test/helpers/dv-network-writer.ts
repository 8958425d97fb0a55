/**
 * A DV network stream server of our own, written from ../shared/reference/FORMATS.md ("Live
 * network streams") and dv-processing's schemas (IOHeader, EventPacket), as the test partner of
 * `fromDvNetwork`: iniVation's `NetworkWriter` itself cannot be built here. It shares no code
 * with our AEDAT 4.0 decoder or writer: flatbuffers are built with the `flatbuffers` package,
 * LZ4 frames by `lz4js`, zstd frames by Node's zlib.
 *
 * What it does, as the text says DV does: the writer is the server (TCP or a UNIX socket); each
 * client first gets a 4-byte LE size and the IOHeader flatbuffer (compression, data-table
 * position -1, the XML info node with `outInfo/0/info` sizeX, sizeY, source) — built with
 * `finishSizePrefixed`, so the size is the flatbuffer's own prefix, as DV does; then packets:
 * int32 stream id, int32 size, a size-prefixed EventPacket ("EVTS", 16-byte events: int64 t, int16
 * x, int16 y, bool on, 3 pad), compressed whole when compression is on. A client that joins late
 * gets the header and then only new packets; a client that sends a byte is disconnected.
 */
import * as net from 'net';
import * as zlib from 'zlib';
import { Builder } from 'flatbuffers';
import { compress as lz4Compress } from 'lz4js';
import type { EventBatch } from '../../src/events/event-batch';

export type DvCompression = 'NONE' | 'LZ4' | 'LZ4_HIGH' | 'ZSTD' | 'ZSTD_HIGH';
const COMPRESSION_CODES: Record<DvCompression, number> = { NONE: 0, LZ4: 1, LZ4_HIGH: 2, ZSTD: 3, ZSTD_HIGH: 4 };

export interface DvWriterOptions {
  readonly width: number;
  readonly height: number;
  readonly compression: DvCompression;
  /** Where to listen: a TCP port on 127.0.0.1 (0 = any), or a UNIX socket path. */
  readonly listen: { port: number } | { path: string };
  /** Stream id of the events in the packet headers (default 0). */
  readonly streamId?: number;
}

function infoXml(o: DvWriterOptions): string {
  const mode = o.compression;
  return (
    '<dv version="2.0">\n' +
    '    <node name="outInfo" path="/mainloop/output_net/outInfo/">\n' +
    `        <node name="${o.streamId ?? 0}" path="/mainloop/output_net/outInfo/${o.streamId ?? 0}/">\n` +
    `            <attr key="compression" type="string">${mode}</attr>\n` +
    '            <attr key="originalOutputName" type="string">events</attr>\n' +
    '            <attr key="typeIdentifier" type="string">EVTS</attr>\n' +
    `            <node name="info" path="/mainloop/output_net/outInfo/${o.streamId ?? 0}/info/">\n` +
    `                <attr key="sizeX" type="int">${o.width}</attr>\n` +
    `                <attr key="sizeY" type="int">${o.height}</attr>\n` +
    '                <attr key="source" type="string">DVS128_test</attr>\n' +
    '            </node>\n' +
    '        </node>\n' +
    '    </node>\n' +
    '</dv>\n'
  );
}

/** The IOHeader as DV sends it: a size-prefixed flatbuffer (the prefix is the 4-byte LE size). */
export function ioHeaderBytes(compressionCode: number, xml: string): Uint8Array {
  const b = new Builder(1024);
  const info = b.createString(xml);
  b.startObject(3);
  b.addFieldInt32(0, compressionCode, 0);
  b.addFieldInt64(1, -1n, 0n); // written even though it is the schema default: DV writes it
  b.addFieldOffset(2, info, 0);
  b.finishSizePrefixed(b.endObject(), 'IOHE');
  return b.asUint8Array().slice();
}

/** One EventPacket of `batch[start, end)`, size-prefixed, identifier "EVTS". */
export function eventPacketBytes(batch: EventBatch, start: number, end: number): Uint8Array {
  const b = new Builder(64 + 16 * (end - start));
  b.startVector(16, end - start, 8);
  for (let i = end - 1; i >= start; i--) {
    b.prep(8, 16);
    b.pad(3);
    b.writeInt8(batch.p[i] ? 1 : 0);
    b.writeInt16(batch.y[i]);
    b.writeInt16(batch.x[i]);
    b.writeInt64(BigInt(batch.t[i]));
  }
  const elements = b.endVector();
  b.startObject(1);
  b.addFieldOffset(0, elements, 0);
  b.finishSizePrefixed(b.endObject(), 'EVTS');
  return b.asUint8Array().slice();
}

type ZstdSync = (b: Uint8Array, o?: { params?: Record<number, number> }) => Buffer;

function compressBody(mode: DvCompression, body: Uint8Array): Uint8Array {
  if (mode === 'NONE') return body;
  if (mode === 'LZ4' || mode === 'LZ4_HIGH') return lz4Compress(body);
  const zstd = (zlib as unknown as { zstdCompressSync?: ZstdSync }).zstdCompressSync;
  if (!zstd) throw new Error(`this Node (${process.version}) has no zlib.zstdCompressSync (Node >= 22.15): the ZSTD writer needs it`);
  return zstd(body);
}

/** A running DV network writer: `send` goes to every connected client. */
export class DvNetworkWriter {
  readonly server: net.Server;
  private readonly clients = new Set<net.Socket>();
  private readonly header: Uint8Array;
  /** Clients it disconnected because they sent bytes. */
  talkers = 0;
  packetsSent = 0;

  constructor(private readonly o: DvWriterOptions) {
    this.header = ioHeaderBytes(COMPRESSION_CODES[o.compression], infoXml(o));
    this.server = net.createServer((socket) => {
      socket.write(this.header);
      this.clients.add(socket);
      socket.on('data', () => {
        this.talkers++;
        socket.destroy();
      });
      socket.on('error', () => socket.destroy());
      socket.on('close', () => this.clients.delete(socket));
    });
  }

  /** Starts listening; resolves with the `dv+tcp://` or `dv+unix://` URL. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      const l = this.o.listen;
      const done = (): void => {
        const a = this.server.address();
        resolve('path' in l ? `dv+unix://${l.path}` : `dv+tcp://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`);
      };
      if ('path' in l) this.server.listen(l.path, done);
      else this.server.listen(l.port, '127.0.0.1', done);
    });
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Sends `batch` as packets of at most `perPacket` events to every client. */
  send(batch: EventBatch, perPacket = 4096): void {
    for (let s = 0; s < batch.length; s += perPacket) {
      const body = compressBody(this.o.compression, eventPacketBytes(batch, s, Math.min(batch.length, s + perPacket)));
      const head = Buffer.alloc(8);
      head.writeInt32LE(this.o.streamId ?? 0, 0);
      head.writeInt32LE(body.length, 4);
      for (const c of this.clients) {
        c.write(head);
        c.write(body);
      }
      this.packetsSent++;
    }
  }

  /** Raw bytes to every client (bad-input tests). */
  sendRaw(bytes: Uint8Array): void {
    for (const c of this.clients) c.write(bytes);
  }

  /** Stops listening and drops every client (a DV server that goes away). */
  close(): Promise<void> {
    for (const c of this.clients) c.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
