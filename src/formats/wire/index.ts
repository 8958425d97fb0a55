/** spikestream's WebSocket wire format: see codec.ts for the layout. */
export * from './codec';
export * from './decoder';
export * from './wire-error';
