/** `spikestream/sinks`: where decisions go. */
export { toNdjson, writeNdjson, type ToNdjsonOptions, type NdjsonStats } from './to-ndjson';
export { toSubscribers, tracesToSubscribers, SubscriberHub, type SubscriberHubOptions, type SubscriberFilter } from './to-subscribers';
export { collectFrameDataset, binSampleInto, type FrameDatasetOptions } from './to-frame-dataset';
