/**
 * AEDAT 4.0 (iniVation DV): the incremental decoder, header probing and the writer. The parts:
 * spec (constants, header types), bytes, xxh32, lz4 / lz4-compress, zstd, xml (the description),
 * flatbuffers (IOHeader and EventPacket tables), decoder, header, writer.
 */
export {
  AEDAT4_MAGIC,
  AEDAT4_MAX_DECOMPRESSED_BYTES,
  AEDAT4_MAX_HEADER_BYTES,
  AEDAT4_MAX_PACKET_BYTES,
  type Aedat4CompressionName,
  type Aedat4DecoderOptions,
  type Aedat4Header,
  type Aedat4StreamInfo,
} from './spec.js';
export { Aedat4Decoder } from './decoder.js';
export { looksLikeAedat4, readAedat4Header, readAedat4Streams } from './header.js';
export { Lz4FrameDecoder } from './lz4.js';
export { lz4CompressFrame } from './lz4-compress.js';
export { xxh32 } from './xxh32.js';
export { aedat4Description } from './xml.js';
export {
  AEDAT4_COMPRESSION_CODES,
  Aedat4Writer,
  encodeAedat4,
  encodeAedat4Header,
  encodeEventPacket,
  type Aedat4WriterOptions,
} from './writer.js';
