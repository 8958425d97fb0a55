/**
 * The one place where the live inputs reach the event-file decoders (AEDAT, EVT 2.0 / 3.0, format
 * detection, the incremental push/end interface) of aedat-parser-ts.
 */
export { Aedat4Decoder, AEDAT4_MAGIC, createDecoder, DETECT_HEAD_BYTES, detectFormat, FormatError, type EventDecoder, type FormatName } from 'aedat-parser-ts';
