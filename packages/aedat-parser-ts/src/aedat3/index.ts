/**
 * AEDAT 3.1 (libcaer / cAER; the DVS128 Gesture dataset uses it): the incremental decoder, the
 * packet index and window reader, and the writer. The parts: spec (constants), header (text
 * header), packets (packet headers, polarity events), decoder, packet-index, writer.
 */
export {
  AEDAT3_END_HEADER,
  AEDAT3_MAGIC,
  AEDAT3_MAX_EVENT_SIZE,
  AEDAT3_MAX_PACKET_BODY,
  AEDAT3_MAX_TS_OVERFLOW,
  AEDAT3_PACKET_HEADER_BYTES,
  AEDAT3_POLARITY_EVENT,
  AEDAT3_SPECIAL_EVENT,
  AEDAT3_SPECIAL_TIMESTAMP_RESET,
  AEDAT3_SPECIAL_TIMESTAMP_WRAP,
} from './spec.js';
export { Aedat3HeaderParser, geometryFromSourceName, looksLikeAedat3 } from './header.js';
export { decodePolarityEvents, readAedat3PacketHeader, type Aedat3PacketHeader, type CoordinateLimits } from './packets.js';
export { Aedat3Decoder, type Aedat3DecoderOptions } from './decoder.js';
export { Aedat31Writer, encodeAedat31, type Aedat31WriterOptions } from './writer.js';
