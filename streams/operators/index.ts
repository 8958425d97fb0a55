/** `spikestream/operators`: RxJS operators over event batches, samples and decisions. */
export { classify, classifySample, type ClassifyOptions } from './classify';
export { classifyLive, type LiveClassifyOptions } from './classify-live';
export { segmentByActivity, segmentTumbling, type LiveSegmentOperatorOptions } from './segment';
export { binFrames, binSample, type SampleBinOptions } from './bin';
export { cropRoi, cropBatch, type Roi, type CropOptions } from './roi';
export { polarityFilter, filterPolarity, type Polarity } from './polarity';
export { refractoryFilter, refractoryBatch, createRefractoryState } from './refractory';
export { backgroundActivityFilter, backgroundActivityBatch, createBackgroundActivityState } from './denoise';
export { spatialDownsample, downsampleBatch, downsampledGeometry } from './downsample';
export { fitToModel, makeFit, planFit, FIT_MODES, type FitMode, type FitOptions } from './fit';
export { filterStats, type FilterStats } from './batch-filter';
