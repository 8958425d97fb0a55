/**
 * The one place where the live inputs reach the event-file decoders (AEDAT, EVT 2.0 / 3.0, format
 * detection, the incremental push/end interface): when the decoders move, only this file changes.
 */
export { createDecoder } from '../../src/formats/registry';
export { detectFormat, DETECT_HEAD_BYTES } from '../../src/formats/detect';
export { Aedat4Decoder, AEDAT4_MAGIC } from '../../src/formats/aedat4';
export { FormatError } from '../../src/formats/format-error';
export type { EventDecoder, FormatName } from '../../src/formats/decoder';
