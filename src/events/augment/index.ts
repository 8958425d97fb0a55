export * from './transforms';
export * from './recording';
