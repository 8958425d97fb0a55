export * from './geometry';
export * from './event-batch';
export * from './input-encoding';
