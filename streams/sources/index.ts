/** `spikestream/sources`: pulled event sources and their Observable faces. */
export { eventFileSource, fromEventFile, paceBatches, type FromEventFileOptions } from './from-event-file';
export { fromDataset, gestureSample, type FromDatasetOptions } from './from-dataset';
export { openDataset, parseUserList, type LabelledDataset, type OpenDatasetOptions, type DatasetSplit } from './open-dataset';
export { windowSamples, type WindowSamplesOptions } from './window-samples';
export { WebSocketIngest, fromWebSocket, IngestClosedError, type WebSocketSourceOptions, type MessageDecoder } from './from-websocket';
export { BoundedEventQueue, QueueOverflowError, type OverflowPolicy, type BoundedQueueStats } from '../core/bounded-queue';
export { ASAP, REALTIME, speed, Pacer, type Pacing } from './pacing';
export { eventsOf, mapSource, pullFromIterator, sourceFromBatches, sourceFromIterator, type EventPull, type EventSource, type PullSettlement } from '../core/event-source';
export { bufferedSource, type BufferOptions } from '../core/buffered-source';
export { segmentLive, segmentStats, DEFAULT_LIVE_SEGMENTATION, type LiveSegmentation, type LiveSegmentOptions, type OnDecided, type SegmentStats } from '../core/live-segmenter';
export { LiveInput, LIVE_DROP_REASONS, type LiveDropReason, type LiveInputOptions, type LiveInputStats } from './live-input';
export { fromUdp, UdpInput, UdpOptionError, DEFAULT_UDP_RECEIVE_BUFFER_BYTES, type UdpInputOptions } from './from-udp';
export { UDP_FORMATS, UdpDatagramDecoder, isUdpFormat, type UdpFormat } from './udp-formats';
export { fromDvNetwork, DvNetworkInput, DvUrlError, parseDvUrl, type DvEndpoint, type DvNetworkOptions } from './from-dv-network';
export { fromReadable, openEventPath, ReadableInput, type ReadableInputOptions } from './from-readable';
