export * from './geometry';
export * from './event-batch';
