/**
 * aedat-parser-ts/node: the Node.js file helpers. Files are read in bounded chunks through the
 * incremental decoders of the core entry; AEDAT 3.1 files can be indexed and read by time
 * window without decoding what lies outside the window.
 */
export {
  DEFAULT_CHUNK_BYTES,
  detectFileFormat,
  eventFileGeometry,
  readEventFile,
  summarizeEventFile,
  type EventFileInfo,
  type EventFileSummary,
  type ReadEventFileOptions,
} from './node/read-file.js';
export {
  aedat3PacketsInWindow,
  indexAedat3File,
  readAedat3Window,
  type Aedat3Index,
  type Aedat3PacketEntry,
  type Aedat3ReadOptions,
} from './node/aedat3-index.js';
