/** Sensor size in pixels (aedat-parser-ts's, which decoders fill from file headers). */
export type { Geometry } from 'aedat-parser-ts';
