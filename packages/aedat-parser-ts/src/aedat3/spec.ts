/** AEDAT 3.1 constants shared by the header parser, the packet reader, the decoder and the writer. */

export const AEDAT3_MAGIC = '#!AER-DAT3.1';
export const AEDAT3_END_HEADER = '#!END-HEADER';
export const AEDAT3_PACKET_HEADER_BYTES = 28;
export const AEDAT3_SPECIAL_EVENT = 0;
export const AEDAT3_POLARITY_EVENT = 1;
/** Special event kinds (data >> 1 & 0x7F). */
export const AEDAT3_SPECIAL_TIMESTAMP_WRAP = 0;
export const AEDAT3_SPECIAL_TIMESTAMP_RESET = 1;

/** Largest accepted eventSize (a DAVIS colour frame event is a few MiB at most). */
export const AEDAT3_MAX_EVENT_SIZE = 16 * 1024 * 1024;
/** Largest accepted packet body (eventCapacity × eventSize). */
export const AEDAT3_MAX_PACKET_BODY = 256 * 1024 * 1024;
/** eventTSOverflow below this keeps t = overflow · 2^31 + ts under 2^53 (exact in a double). */
export const AEDAT3_MAX_TS_OVERFLOW = 1 << 22;

export const FORMAT = 'aedat3';
