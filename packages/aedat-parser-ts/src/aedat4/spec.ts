/**
 * AEDAT 4.0 (iniVation DV) constants and header types, shared by the reader and the writer.
 *
 * Layout: `#!AER-DAT4.0\r\n`, uint32 LE IOHeader length, IOHeader flatbuffer ("IOHE":
 * compression, dataTablePosition, XML description), then packets: int32 streamId, uint32 size,
 * payload. A payload is a size-prefixed flatbuffer whose identifier (bytes 8–12) names its type,
 * compressed as a whole (one LZ4 frame or one zstd frame) when the header says so.
 */

export const AEDAT4_MAGIC = '#!AER-DAT4.0\r\n';
export const MAGIC_BYTES = Uint8Array.from(AEDAT4_MAGIC, (c) => c.charCodeAt(0));
/** Largest IOHeader we accept (DV writes a few KiB). */
export const AEDAT4_MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** Largest packet payload we accept (DV packets are typically well under 1 MiB). */
export const AEDAT4_MAX_PACKET_BYTES = 64 * 1024 * 1024;
/** Largest decompressed packet we accept. */
export const AEDAT4_MAX_DECOMPRESSED_BYTES = 128 * 1024 * 1024;

export type Aedat4CompressionName = 'none' | 'lz4' | 'lz4-high' | 'zstd' | 'zstd-high';
export const COMPRESSION_NAMES: readonly Aedat4CompressionName[] = ['none', 'lz4', 'lz4-high', 'zstd', 'zstd-high'];

/** One `outInfo/<id>` node of the description. */
export interface Aedat4StreamInfo {
  id: number;
  /** Flatbuffer type identifier: EVTS, FRME, IMUS, TRIG, … */
  typeIdentifier: string;
  /** `originalOutputName` (e.g. "events"), when present. */
  name?: string;
  /** `info/sizeX`, `info/sizeY` (event and frame streams). */
  width?: number;
  height?: number;
  /** `info/source`, e.g. "DVS128_0279". */
  source?: string;
  /** The per-stream `compression` attribute as written (informational; the IOHeader decides). */
  compression?: string;
}

export interface Aedat4Header {
  compression: Aedat4CompressionName;
  /** File offset of the FileDataTable, or −1 when there is none. */
  dataTablePosition: number;
  /** The XML description as stored. */
  description: string;
  streams: Aedat4StreamInfo[];
  /** Bytes before the first packet: magic + length word + IOHeader. */
  headerBytes: number;
}

export interface Aedat4DecoderOptions {
  /** Which EVTS stream to decode; default: the first EVTS stream of the description. */
  streamId?: number;
}
