/**
 * The event batch (a struct of typed arrays) is aedat-parser-ts's: its decoders return it and
 * the whole pipeline works on it. Re-exported here so the rooms of this repository keep one
 * place to import it from.
 */
export {
  type EventBatch,
  EventBatchBuilder,
  allocBatch,
  batchFromArrays,
  cloneBatch,
  concatBatches,
  countOn,
  emptyBatch,
  lowerBoundTime,
  sliceByIndex,
  sliceByTime,
} from 'aedat-parser-ts';
