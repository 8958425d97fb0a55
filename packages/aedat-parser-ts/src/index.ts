/**
 * aedat-parser-ts: event-camera files (AEDAT 2.0 / 3.1 / 4.0, Prophesee EVT 2.0 / 3.0 and DAT,
 * N-MNIST, CSV) decoded into struct-of-typed-array batches, incrementally, in any JavaScript
 * runtime. This entry uses only Uint8Array / DataView / typed arrays; the Node file helpers are
 * in `aedat-parser-ts/node`.
 */
export * from './event-batch.js';
export type { Geometry } from './geometry.js';
export { ChunkCarry, type EventDecoder, type FormatName } from './decoder.js';
export { FormatError, attachFile } from './format-error.js';
export { DETECT_HEAD_BYTES, detectFormat } from './detect.js';
export { FORMAT_NAMES, createDecoder, isFormatName } from './registry.js';
export { decodeEventStream, type DecodeEventStreamOptions } from './stream.js';
export { DEFAULT_HEADER_LIMITS, type HeaderLimits } from './header-lines.js';
export { Aedat2Decoder, aedat2Chip, looksLikeAedat2, type Aedat2Layout, type Aedat2Options } from './aedat2.js';
export * from './aedat3/index.js';
export * from './aedat4/index.js';
export { Evt2Decoder, PropheseeRawDecoder, looksLikeEvt2, type PropheseeRawOptions } from './evt2.js';
export { Evt3Decoder, looksLikeEvt3 } from './evt3.js';
export { PropheseeDatDecoder, looksLikePropheseeDat, type PropheseeDatOptions } from './prophesee-dat.js';
export { type PropheseeHeader, geometryFromPlugin } from './prophesee-header.js';
export {
  NMNIST_GEOMETRY,
  NMNIST_OVERFLOW_US,
  NMNIST_OVERFLOW_Y,
  NMNIST_TIME_BITS,
  NmnistDecoder,
  looksLikeNmnist,
  type NmnistOptions,
} from './nmnist.js';
export { encodeNmnist } from './nmnist-writer.js';
export { CSV_COLUMNS, CsvDecoder, csvHeader, looksLikeCsv } from './csv.js';
export { encodeCsvRows } from './csv-writer.js';
